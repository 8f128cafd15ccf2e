using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;

namespace SparOrleans.Core.Negatives;

/// <summary>One actor sample of a prompt and the refiner's vote on it.</summary>
public sealed record JudgedResponse(string Response, Vote Vote);

/// <summary>A prompt with its K judged actor samples (K = 5 in the paper).</summary>
public sealed record JudgedPrompt(string PromptId, string Instruction, IReadOnlyList<JudgedResponse> Responses);

/// <summary>The root of a refinement tree: a majority-No response, its kept judgment, value 0.</summary>
public sealed record NegativeRoot(string PromptId, string Instruction, string Response, string Judgment);

/// <summary>
/// Negative data collection: prompts with at least one majority-No response (ties dropped) are kept, and one of
/// their majority-No responses, chosen by a seeded draw stable per prompt id, becomes the tree's root.
/// </summary>
public static class NegativeSelection
{
    public static IReadOnlyList<NegativeRoot> Select(IEnumerable<JudgedPrompt> prompts, int seed)
    {
        var roots = new List<NegativeRoot>();
        foreach (var prompt in prompts)
        {
            var negatives = prompt.Responses.Where(r => r.Vote.Majority == Verdict.No && r.Vote.KeptJudgment is not null).ToList();
            if (negatives.Count == 0)
            {
                continue;
            }
            var pick = negatives[new Random(StableHash.Combine(seed, prompt.PromptId)).Next(negatives.Count)];
            roots.Add(new NegativeRoot(prompt.PromptId, prompt.Instruction, pick.Response, pick.Vote.KeptJudgment!));
        }
        return roots;
    }
}
