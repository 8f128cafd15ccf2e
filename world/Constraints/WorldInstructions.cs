using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval;

namespace SparOrleans.World.Constraints;

/// <summary>
/// Every verifier the world's prompts use, by instruction id: the IFEval checks from <see cref="InstructionRegistry"/>
/// plus the world's own <c>sim:</c> checks. A scorer that resolves ids here scores the world's benchmark exactly.
/// </summary>
public static class WorldInstructions
{
    private static readonly Dictionary<string, IInstructionChecker> SimCheckers = new IInstructionChecker[]
    {
        new SimChecker(SentimentConstraint.InstructionId, (r, k) => SentimentConstraint.Check(r, Str(k, "sentiment") != "negative")),
        new SimChecker(LetterCopiesConstraint.InstructionId, (r, k) => LetterCopiesConstraint.Check(r, Str(k, "letter")[0], Int(k, "count"))),
    }.ToDictionary(c => c.Id);

    /// <summary>The world's own check ids (all start with <c>sim:</c>).</summary>
    public static IReadOnlyCollection<string> SimIds => SimCheckers.Keys;

    /// <summary>True for ids of the world's own checks.</summary>
    public static bool IsSim(string instructionId) => instructionId.StartsWith("sim:", StringComparison.Ordinal);

    /// <summary>The checker for an IFEval or <c>sim:</c> id; an unknown id is a <see cref="UserInputException"/>.</summary>
    public static IInstructionChecker Get(string instructionId)
    {
        if (!IsSim(instructionId))
        {
            return InstructionRegistry.Get(instructionId);
        }
        return SimCheckers.TryGetValue(instructionId, out var checker)
            ? checker
            : throw new UserInputException($"unknown world instruction id '{instructionId}' (known: {string.Join(", ", SimCheckers.Keys)})");
    }

    private static string Str(JsonObject kwargs, string name) =>
        kwargs[name]?.GetValue<string>() ?? throw new UserInputException($"missing kwarg '{name}'");

    private static int Int(JsonObject kwargs, string name) =>
        kwargs[name]?.GetValue<int>() ?? throw new UserInputException($"missing kwarg '{name}'");

    private sealed class SimChecker(string id, Func<string, JsonObject, bool> check) : IInstructionChecker
    {
        public string Id { get; } = id;

        public bool IsFollowed(string response, JsonObject kwargs) => check(response, kwargs);
    }
}
