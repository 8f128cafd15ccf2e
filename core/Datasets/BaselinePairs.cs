using SparOrleans.Core.Formats;
using SparOrleans.Core.Negatives;

namespace SparOrleans.Core.Datasets;

/// <summary>An independent actor sample and the model's own score of it (e.g. its judge's V).</summary>
public sealed record ScoredResponse(string Response, double Score);

/// <summary>An independent actor sample and whether it truly satisfies its prompt (verifier ground truth).</summary>
public sealed record LabelledResponse(string Response, bool Correct);

/// <summary>
/// Pairs for the baselines, all from independently sampled responses (not refinements):
/// self-rewarding (best vs worst of K by the model's own judge), meta-rewarding (those pairs plus judge-preference
/// pairs), and the "interfering" pairs of the paper's Figure 4 (a correct vs an incorrect independent sample).
/// </summary>
public static class BaselinePairs
{
    /// <summary>Highest vs lowest own score (first wins ties of rank); null when all scores or texts are equal.</summary>
    public static DpoPair? SelfRewarding(string instruction, IReadOnlyList<ScoredResponse> samples)
    {
        if (samples.Count < 2)
        {
            return null;
        }
        var best = samples.MaxBy(s => s.Score)!;
        var worst = samples.MinBy(s => s.Score)!;
        return best.Score <= worst.Score ? null : DpoPairs.Make(instruction, best.Response, worst.Response);
    }

    /// <summary>
    /// Judge-preference pairs for meta-rewarding: for each non-unanimous vote, prompt = the judge prompt, chosen =
    /// the kept (majority) judgment, rejected = a dissenting one. The paper's meta-judge is an LLM comparing
    /// judgments; here the majority plays that role, which keeps the baseline free of an extra model.
    /// </summary>
    public static IReadOnlyList<DpoPair> MetaRewardingJudgePairs(JudgedPrompt prompt, IRoleFormat format) =>
        prompt.Responses
            .Where(r => r.Vote.IsNonUnanimous && r.Vote.KeptJudgment is not null && r.Vote.DissentingJudgment is not null)
            .Select(r => DpoPairs.Make(format.JudgePrompt(prompt.Instruction, r.Response)[^1].Content, r.Vote.KeptJudgment!, r.Vote.DissentingJudgment!))
            .OfType<DpoPair>()
            .ToList();

    /// <summary>
    /// A baseline's pair from one prompt's judged samples, with the model's own vote as its only judge (no tree
    /// search): self-rewarding and meta-rewarding rank by the vote's value V; interfering takes the vote's majority as the label. Votes
    /// without a valid sample (V null) or without a majority (ties) take no part. Null for
    /// the sources whose pairs come from the tree search (<see cref="PairSources.UsesTreeSearch"/>).
    /// </summary>
    public static DpoPair? FromJudged(PairSource source, JudgedPrompt prompt, int seed) => source switch
    {
        PairSource.Refinement or PairSource.SelfRefine => null,
        PairSource.SelfRewarding or PairSource.MetaRewarding => SelfRewarding(prompt.Instruction,
            prompt.Responses.Where(r => r.Vote.Value is not null).Select(r => new ScoredResponse(r.Response, r.Vote.Value!.Value)).ToList()),
        PairSource.Interfering => Interfering(prompt.Instruction,
            prompt.Responses.Where(r => r.Vote.Majority is not null).Select(r => new LabelledResponse(r.Response, r.Vote.Majority == Verdict.Yes)).ToList(), seed),
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "Unknown pair source."),
    };

    /// <summary>A seeded random correct sample vs a seeded random incorrect one; null unless both kinds exist.</summary>
    public static DpoPair? Interfering(string instruction, IReadOnlyList<LabelledResponse> samples, int seed)
    {
        var correct = samples.Where(s => s.Correct).ToList();
        var wrong = samples.Where(s => !s.Correct).ToList();
        if (correct.Count == 0 || wrong.Count == 0)
        {
            return null;
        }
        var random = new Random(StableHash.Combine(seed, instruction));
        return DpoPairs.Make(instruction, correct[random.Next(correct.Count)].Response, wrong[random.Next(wrong.Count)].Response);
    }
}
