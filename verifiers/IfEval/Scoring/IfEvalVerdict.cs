using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Verifiers.IfEval.Scoring;

/// <summary>
/// One response's strict prompt-level verdict (IFEval's <c>follow_all_instructions</c>, strict), from instruction ids
/// and kwargs as JSON text: the form a run's prompts carry them in.
/// </summary>
public static class IfEvalVerdict
{
    /// <summary>
    /// True when the response strictly follows every instruction, false when it misses one; null when the verdict is
    /// not IFEval's to give: no instructions, an id the registry does not know, or kwargs the checks refuse.
    /// </summary>
    public static bool? FollowsAllStrict(IReadOnlyList<string> instructionIds, IReadOnlyList<string> kwargsJson, string response)
    {
        if (instructionIds.Count == 0 || instructionIds.Count != kwargsJson.Count
            || !instructionIds.All(InstructionRegistry.Ids.Contains))
        {
            return null;
        }
        try
        {
            var kwargs = kwargsJson.Select(Kwargs).ToList();
            return IfEvalScorer.FollowStrict(response, instructionIds, kwargs).All(ok => ok);
        }
        catch (Exception e) when (e is UserInputException or JsonException)
        {
            return null;
        }
    }

    // As IfEvalFiles.ReadInput reads them: a null kwarg is an unset one (lm-evaluation-harness writes them so).
    private static JsonObject Kwargs(string json)
    {
        var parsed = JsonNode.Parse(json) as JsonObject ?? throw new UserInputException($"kwargs must be a JSON object, got {json}");
        var copy = new JsonObject();
        foreach (var (name, value) in parsed)
        {
            if (value is not null)
            {
                copy[name] = value.DeepClone();
            }
        }
        return copy;
    }
}
