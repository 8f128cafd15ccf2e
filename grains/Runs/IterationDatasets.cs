using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Negatives;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Grains.Runs;

/// <summary>
/// The training data of one iteration as a pure function of its prompts' outcomes, shared by the run grain (which
/// trains on it) and by tools that rebuild it from stored state (<c>spar export</c>, <c>spar report</c>). Outcomes
/// are taken in prompt-id order, so the result does not depend on the order in which the searches finished.
/// </summary>
public static class IterationDatasets
{
    /// <summary>The role format a run talks in (the simulator's models are trained on the compact one), so its data is written in it.</summary>
    public static IRoleFormat Format(RunSpec spec) => RoleFormats.ByName(spec.RoleFormat);

    /// <summary>The actor's DPO pairs: one per prompt whose search produced a pair, in prompt-id order.</summary>
    public static IReadOnlyList<DpoPair> DpoPairs(IEnumerable<PromptOutcome> outcomes) =>
        InPromptOrder(outcomes).Where(o => o.Pair is not null).Select(o => o.Pair!).ToList();

    /// <summary>
    /// The refiner's RFT set: every outcome's candidates, capped by <see cref="MethodSettings.RftCaps"/> or else to
    /// max(50, 4 × prompts per iteration) in the reference's proportions, Yes at <see cref="MethodSettings.RftYesShare"/>
    /// of its judgments (0.5 without settings).
    /// </summary>
    /// <param name="keep">Drops candidates before the caps and balance (the <see cref="MethodSettings.RftOracle"/> diagnostic).</param>
    public static IReadOnlyList<SftExample> RftExamples(RunSpec spec, IEnumerable<PromptOutcome> outcomes, MethodSettings? settings = null,
        Func<PromptOutcome, SftExample, bool>? keep = null) =>
        RftDatasetBuilder.Build(InPromptOrder(outcomes).SelectMany(o => o.RftCandidates.Where(e => keep?.Invoke(o, e) ?? true)), RftBalance(spec, settings)).Examples;

    /// <summary>
    /// The <see cref="MethodSettings.RftOracle"/> filter: a judgment is kept when the verifiers agree with its verdict on
    /// the judged response, the winner's refinement when the winner follows; anything the verifiers cannot tell is dropped.
    /// </summary>
    public static Func<PromptOutcome, SftExample, bool> OracleFilter(RunSpec spec, IReadOnlyDictionary<string, PromptSpec> prompts, IResponseVerifier verifier)
    {
        var format = Format(spec);
        return (outcome, example) =>
        {
            var prompt = prompts[outcome.PromptId];
            if (example.Source == RftSource.Refinement)
            {
                return outcome.Pair is { } pair && verifier.Follows(spec, prompt, pair.Chosen) == true;
            }
            return JudgedResponse(format, prompt.Instruction, example) is { } response
                && verifier.Follows(spec, prompt, response) is { } follows
                && follows == example.IsYesJudgment;
        };
    }

    /// <summary>
    /// The <see cref="MethodSettings.RftGrounded"/> filter: a judgment is kept when its checks name only constraints its
    /// instruction states (<see cref="RftData.IsGrounded"/>); refinements are kept.
    /// </summary>
    public static Func<PromptOutcome, SftExample, bool> GroundedFilter(RunSpec spec, IReadOnlyDictionary<string, PromptSpec> prompts)
    {
        var format = Format(spec);
        return (outcome, example) => example.Source == RftSource.Refinement
            || RftData.IsGrounded(format, prompts[outcome.PromptId].Instruction, example.Messages[^1].Content);
    }

    /// <summary>
    /// The filter <paramref name="settings"/> ask RFT's candidates to pass (<see cref="MethodSettings.RftOracle"/>,
    /// <see cref="MethodSettings.RftGrounded"/>; null for none): the run grain trains on it and <c>spar export</c>
    /// writes with it, so an exported set is the set trained.
    /// </summary>
    public static Func<PromptOutcome, SftExample, bool>? RftFilter(RunSpec spec, MethodSettings settings, IReadOnlyDictionary<string, PromptSpec> prompts,
        IResponseVerifier verifier) =>
        Both(settings.RftOracle ? OracleFilter(spec, prompts, verifier) : null, settings.RftGrounded ? GroundedFilter(spec, prompts) : null);

    /// <summary>Both filters where both are given; either alone; null for none.</summary>
    public static Func<PromptOutcome, SftExample, bool>? Both(Func<PromptOutcome, SftExample, bool>? first, Func<PromptOutcome, SftExample, bool>? second) =>
        first is null ? second : second is null ? first : (o, e) => first(o, e) && second(o, e);

    // The response inside a judgment example's prompt: the format's judge prompt rendered around a marker gives the text
    // before and after it, so any format whose judge prompt holds the response verbatim is read back.
    private static string? JudgedResponse(IRoleFormat format, string instruction, SftExample example)
    {
        const string Marker = "\u0001response\u0001";
        var template = format.JudgePrompt(instruction, Marker);
        var index = template.ToList().FindIndex(m => m.Content.Contains(Marker, StringComparison.Ordinal));
        if (index < 0 || index >= example.Messages.Count - 1)
        {
            return null;
        }
        var parts = template[index].Content.Split(Marker);
        var content = example.Messages[index].Content;
        return parts.Length == 2 && content.Length >= parts[0].Length + parts[1].Length
            && content.StartsWith(parts[0], StringComparison.Ordinal) && content.EndsWith(parts[1], StringComparison.Ordinal)
            ? content[parts[0].Length..^parts[1].Length]
            : null;
    }

    /// <summary>
    /// Meta-rewarding's judge-preference pairs: for every non-unanimous vote of the initial judging, the kept judgment
    /// against a dissenting one (<see cref="BaselinePairs.MetaRewardingJudgePairs"/>), in prompt-id order.
    /// </summary>
    public static IReadOnlyList<DpoPair> JudgePairs(RunSpec spec, IEnumerable<PromptOutcome> outcomes, IReadOnlyDictionary<string, PromptSpec> prompts) =>
        InPromptOrder(outcomes)
            .SelectMany(o => BaselinePairs.MetaRewardingJudgePairs(
                new JudgedPrompt(o.PromptId, prompts[o.PromptId].Instruction, o.Judged.Select(j => new JudgedResponse(j.Response, j.Vote)).ToList()),
                Format(spec)))
            .ToList();

    public static RftBalanceOptions RftBalance(RunSpec spec, MethodSettings? settings = null)
    {
        var yesShare = settings?.RftYesShare ?? 0.5;
        return settings?.RftCaps is { } caps
            ? caps.Balance(spec.Seed, yesShare)
            : RftBalanceOptions.ScaledTo(Math.Max(50, spec.PromptsPerIteration * 4), seed: spec.Seed, yesShare: yesShare);
    }

    /// <summary>
    /// The share of <paramref name="trees"/> whose winner follows its prompt by <paramref name="verifier"/> (a tree
    /// without a pair counts as not verified): the "refine ok" figure. Null without trees, or when the verifier cannot
    /// tell for some winner.
    /// </summary>
    public static double? VerifiedWinnerShare(RunSpec spec, IReadOnlyList<PromptOutcome> trees, IReadOnlyDictionary<string, PromptSpec> prompts, IResponseVerifier verifier)
    {
        if (trees.Count == 0)
        {
            return null;
        }
        var verdicts = trees.Select(o => o.Pair is { } pair ? verifier.Follows(spec, prompts[o.PromptId], pair.Chosen) : false).ToList();
        return verdicts.Any(v => v is null) ? null : (double)verdicts.Count(v => v == true) / trees.Count;
    }

    private static IEnumerable<PromptOutcome> InPromptOrder(IEnumerable<PromptOutcome> outcomes) =>
        outcomes.OrderBy(o => o.PromptId, StringComparer.Ordinal);
}
