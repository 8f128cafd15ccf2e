using SparOrleans.Core.Datasets;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// Where a run's prompts come from: the training prompts of each iteration. Registered in every silo's services
/// (the run grain asks it); the simulated world's composer is one implementation.
/// </summary>
public interface IPromptSource
{
    /// <summary>
    /// The prompts of <paramref name="iteration"/> (1-based) of the run <paramref name="spec"/> describes, the same on
    /// every call (a resumed run replays them), with ids unique within the iteration.
    /// </summary>
    IReadOnlyList<PromptSpec> Prompts(RunSpec spec, int iteration);
}

/// <summary>
/// Optional ground truth for a (prompt, response): whether the response follows every constraint of the prompt.
/// Used only for the iteration figures (the share of tree-search winners that really follow their prompt), never
/// for training.
/// </summary>
public interface IResponseVerifier
{
    /// <summary>True or false where the verdict is known; null where it is not (no verifier for a constraint).</summary>
    bool? Follows(RunSpec spec, PromptSpec prompt, string response);
}

/// <summary>
/// The method's settings for a run: how each role samples, how votes are taken, how far the tree search goes, which
/// judgments RFT keeps. A pure function of the spec; registered in every silo's services.
/// </summary>
public interface IMethodSettings
{
    MethodSettings Of(RunSpec spec);
}

/// <summary>
/// The settings <see cref="IMethodSettings"/> reads from a run spec (they travel in <see cref="IterationContext"/>).
/// <see cref="RftBalanceYesNo"/> trims the RFT set's larger verdict side to the smaller one; off by default, as in the
/// reference, so RFT sees the judge's own Yes/No mix (balancing pulled a judge that says Yes to 36% of cases towards 50%).
/// </summary>
public sealed record MethodSettings(
    SamplingOptions Sampling,
    VotingOptions InitialVoting,
    TreeSearchOptions TreeSearch,
    VotingOptions TreeVoting,
    RftVotes RftVotes,
    bool RftBalanceYesNo = false);
