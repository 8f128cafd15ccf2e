using System.Text.Json.Nodes;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Negatives;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.World.Constraints;

namespace SparOrleans.Grains.Runs;

/// <summary>
/// The training data of one iteration as a pure function of its prompts' outcomes, shared by the run grain (which
/// trains on it) and by tools that rebuild it from stored state (<c>spar export</c>, <c>spar report</c>). Outcomes
/// are taken in prompt-id order, so the result does not depend on the order in which the searches finished.
/// </summary>
public static class IterationDatasets
{
    /// <summary>The role format every run talks in (the simulator's models are trained on it), so its data is written in it.</summary>
    public static IRoleFormat Format => RoleFormats.Compact;

    /// <summary>The actor's DPO pairs: one per prompt whose search produced a pair, in prompt-id order.</summary>
    public static IReadOnlyList<DpoPair> DpoPairs(IEnumerable<PromptOutcome> outcomes) =>
        InPromptOrder(outcomes).Where(o => o.Pair is not null).Select(o => o.Pair!).ToList();

    /// <summary>The refiner's RFT set: every outcome's candidates, balanced and capped to max(50, 4 × prompts per iteration).</summary>
    public static IReadOnlyList<SftExample> RftExamples(RunSpec spec, IEnumerable<PromptOutcome> outcomes) =>
        RftDatasetBuilder.Build(InPromptOrder(outcomes).SelectMany(o => o.RftCandidates), RftBalance(spec)).Examples;

    /// <summary>
    /// Meta-rewarding's judge-preference pairs: for every non-unanimous vote of the initial judging, the kept judgment
    /// against a dissenting one (<see cref="BaselinePairs.MetaRewardingJudgePairs"/>), in prompt-id order.
    /// </summary>
    public static IReadOnlyList<DpoPair> JudgePairs(IEnumerable<PromptOutcome> outcomes, IReadOnlyDictionary<string, PromptSpec> prompts) =>
        InPromptOrder(outcomes)
            .SelectMany(o => BaselinePairs.MetaRewardingJudgePairs(
                new JudgedPrompt(o.PromptId, prompts[o.PromptId].Instruction, o.Judged.Select(j => new JudgedResponse(j.Response, j.Vote)).ToList()),
                RoleFormats.Compact))
            .ToList();

    public static RftBalanceOptions RftBalance(RunSpec spec) =>
        RftBalanceOptions.ScaledTo(Math.Max(50, spec.PromptsPerIteration * 4), seed: spec.Seed);

    /// <summary>Whether <paramref name="response"/> follows every constraint of <paramref name="prompt"/> (the world's verifiers).</summary>
    public static bool Verifies(PromptSpec prompt, string response) =>
        prompt.InstructionIds.Select((id, i) => WorldInstructions.Get(id).IsFollowed(response, (JsonObject)JsonNode.Parse(prompt.KwargsJson[i])!)).All(ok => ok);

    private static IEnumerable<PromptOutcome> InPromptOrder(IEnumerable<PromptOutcome> outcomes) =>
        outcomes.OrderBy(o => o.PromptId, StringComparer.Ordinal);
}
