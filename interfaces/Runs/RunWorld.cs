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
/// <see cref="RftYesShare"/> is the share of Yes among the RFT set's judgments (the surplus side is trimmed): 0.5 is
/// as many Yes as No; the simulator sets R_0's share, since a 50/50 set pulled a judge of cases that follow 36% of the
/// time towards saying Yes to half of them, and the reference's caps unbalanced (about 3 Yes to 1 No) further.
/// <see cref="RftCaps"/> caps each source of the RFT set (null: the reference's caps scaled to the iteration).
/// <see cref="RftOracle"/> is a diagnostic, not SPaR: RFT keeps only candidates the verifiers confirm (a judgment whose
/// verdict they agree with, a refinement whose winner follows), the best any filter of the refiner's own data could do.
/// <see cref="RftGrounded"/> keeps only judgments whose checks name constraints the instruction states.
/// </summary>
public sealed record MethodSettings(
    SamplingOptions Sampling,
    VotingOptions InitialVoting,
    TreeSearchOptions TreeSearch,
    VotingOptions TreeVoting,
    RftVotes RftVotes,
    double RftYesShare = 0.5,
    RftCaps? RftCaps = null,
    bool RftOracle = false,
    bool RftGrounded = false);
