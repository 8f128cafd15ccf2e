using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;

namespace SparOrleans.Core.Negatives;

/// <summary>One actor sample of a prompt and the refiner's vote on it.</summary>
public sealed record JudgedResponse(string Response, Vote Vote);

/// <summary>A prompt with its K judged actor samples (K = 5 in the paper).</summary>
public sealed record JudgedPrompt(string PromptId, string Instruction, IReadOnlyList<JudgedResponse> Responses);

/// <summary>
/// The root of a refinement tree: a majority-No response, its kept judgment, value 0. <see cref="SampleIndex"/> is
/// the response's index among the prompt's samples (so views can mark which sample became the tree).
/// </summary>
public sealed record NegativeRoot(string PromptId, string Instruction, string Response, string Judgment, int SampleIndex = 0);

/// <summary>
/// Why a prompt has no negative. The cases differ in what they say about the judge: samples it judged right are the
/// method working, while votes that never produced a verdict are a refiner that cannot write one (a too-young R_0),
/// which a bare "no negative" would hide.
/// </summary>
public enum NoNegativeReason
{
    /// <summary>Every sample got a Yes majority.</summary>
    AllJudgedYes,

    /// <summary>No judgment of any sample had a readable verdict.</summary>
    AllVotesInvalid,

    /// <summary>No No majority, but some votes tied (or were invalid) while others said Yes.</summary>
    NoMajorityNo,
}

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
            var negatives = prompt.Responses
                .Select((r, i) => (Response: r, Index: i))
                .Where(r => IsNegative(r.Response.Vote))
                .ToList();
            if (negatives.Count == 0)
            {
                continue;
            }
            var (pick, index) = negatives[new Random(StableHash.Combine(seed, prompt.PromptId)).Next(negatives.Count)];
            roots.Add(new NegativeRoot(prompt.PromptId, prompt.Instruction, pick.Response, pick.Vote.KeptJudgment!, index));
        }
        return roots;
    }

    /// <summary>Why <paramref name="votes"/> yield no negative; null when one of them is a negative (a kept No majority).</summary>
    public static NoNegativeReason? WhyNone(IReadOnlyList<Vote> votes)
    {
        if (votes.Any(IsNegative))
        {
            return null;
        }
        if (votes.Count > 0 && votes.All(v => v.Yes + v.No == 0))
        {
            return NoNegativeReason.AllVotesInvalid;
        }
        return votes.All(v => v.Majority == Verdict.Yes) ? NoNegativeReason.AllJudgedYes : NoNegativeReason.NoMajorityNo;
    }

    /// <summary>A vote that makes its response a candidate root: a No majority with a kept judgment to refine from.</summary>
    private static bool IsNegative(Vote vote) => vote.Majority == Verdict.No && vote.KeptJudgment is not null;

    /// <summary>The reason in words, for tables and views.</summary>
    public static string Describe(NoNegativeReason reason) => reason switch
    {
        NoNegativeReason.AllJudgedYes => "every sample judged right",
        NoNegativeReason.AllVotesInvalid => "all votes invalid: no judgment had a verdict",
        _ => "no sample had a No majority (tied or invalid votes)",
    };
}
