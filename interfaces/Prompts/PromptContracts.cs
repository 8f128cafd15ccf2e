using Orleans.Concurrency;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Interfaces.Prompts;

/// <summary>A prompt of the run: id, instruction, and its verifiable constraints (IFEval ids + kwargs JSON).</summary>
[GenerateSerializer, Immutable, Alias("spar.prompt-spec")]
public sealed record PromptSpec(
    [property: Id(0)] string PromptId,
    [property: Id(1)] string Instruction,
    [property: Id(2)] IReadOnlyList<string> InstructionIds,
    [property: Id(3)] IReadOnlyList<string> KwargsJson);

/// <summary>
/// Everything a prompt needs to play one iteration: the models of iteration t, the format both roles speak, and
/// the method's settings. Core option records travel through Orleans' System.Text.Json codec.
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.iteration-context")]
public sealed record IterationContext(
    [property: Id(0)] string RunId,
    [property: Id(1)] int Iteration,
    [property: Id(2)] ModelRef Actor,
    [property: Id(3)] ModelRef Refiner,
    [property: Id(4)] int Seed,
    [property: Id(5)] string FormatName,
    [property: Id(6)] int SamplesPerPrompt,
    [property: Id(7)] SamplingOptions Sampling,
    [property: Id(8)] VotingOptions InitialVoting,
    [property: Id(9)] SearchPolicyKind Policy,
    [property: Id(10)] TreeSearchOptions Search,
    [property: Id(11)] VotingOptions TreeVoting,
    [property: Id(12)] PairSource Pairs = PairSource.Refinement,
    [property: Id(13)] RftVotes RftVotes = RftVotes.NonUnanimous)
{
    public ModelRef Model(ModelRole role) => role == ModelRole.Actor ? Actor : Refiner;
}

/// <summary>Where a prompt stands in its iteration.</summary>
public enum PromptPhase
{
    New,
    Sampled,
    Judged,
    Searching,
    Done,
}

/// <summary>
/// What a prompt contributes to training and to the iteration's figures, once its search is over.
/// <see cref="NoNegative"/> says why a tree-search prompt had no negative (null when it had one, for baselines, and
/// in state stored before it existed: <see cref="NegativeSelection.WhyNone"/> on <see cref="Judged"/> tells then).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.prompt-outcome")]
public sealed record PromptOutcome(
    [property: Id(0)] string PromptId,
    [property: Id(1)] bool HadNegative,
    [property: Id(2)] bool FoundWinner,
    [property: Id(3)] int Expansions,
    [property: Id(4)] int? WinnerDepth,
    [property: Id(5)] DpoPair? Pair,
    [property: Id(6)] IReadOnlyList<SftExample> RftCandidates,
    [property: Id(7)] IReadOnlyList<JudgedSample> Judged,
    [property: Id(8)] NoNegativeReason? NoNegative = null);

/// <summary>One actor sample with its refiner vote (for judgment accuracy against the verifiers).</summary>
[GenerateSerializer, Immutable, Alias("spar.judged-sample")]
public sealed record JudgedSample(
    [property: Id(0)] string Response,
    [property: Id(1)] Vote Vote);

/// <summary>
/// A prompt's state for researchers: samples, votes, the negative and the tree so far. <see cref="RootSample"/> is the
/// index of the sample that became the tree's root (null before the search starts, without a tree, and in state
/// stored before it was recorded).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.prompt-snapshot")]
public sealed record PromptSnapshot(
    [property: Id(0)] string Key,
    [property: Id(1)] PromptPhase Phase,
    [property: Id(2)] PromptSpec? Prompt,
    [property: Id(3)] IReadOnlyList<JudgedSample> Samples,
    [property: Id(4)] SearchState? Search,
    [property: Id(5)] PromptOutcome? Outcome,
    [property: Id(6)] int? RootSample = null);

/// <summary>
/// One prompt of one iteration (key <c>{run}/{iteration}/{prompt}</c>): owns its K samples, their votes, its negative
/// and its refinement tree. Every phase method is idempotent: a repeated call returns what is already stored, so a
/// coordinator that restarts mid-phase simply calls again.
/// </summary>
[Alias("spar.prompt")]
public interface IPromptGrain : IGrainWithStringKey
{
    [ResponseTimeout("01:00:00")]
    Task SampleAsync(IterationContext context, PromptSpec prompt);

    [ResponseTimeout("01:00:00")]
    Task<IReadOnlyList<JudgedSample>> JudgeAsync(IterationContext context);

    [ResponseTimeout("02:00:00")]
    Task<PromptOutcome> SearchAsync(IterationContext context);

    [AlwaysInterleave]
    Task<PromptSnapshot> GetSnapshotAsync();
}

/// <summary>A tree node's inspectable state.</summary>
[GenerateSerializer, Immutable, Alias("spar.tree-node-snapshot")]
public sealed record TreeNodeSnapshot(
    [property: Id(0)] string Key,
    [property: Id(1)] int NodeId,
    [property: Id(2)] int ParentId,
    [property: Id(3)] int Depth,
    [property: Id(4)] ChildOutcome? Outcome,
    [property: Id(5)] string? Silo);

/// <summary>
/// One child of a refinement tree (key <c>{prompt key}/{node id}</c>): one refinement generation, then k judge
/// generations. Siblings are separate grains, so a level expands in parallel across the cluster.
/// </summary>
[Alias("spar.tree-node")]
public interface ITreeNodeGrain : IGrainWithStringKey
{
    [ResponseTimeout("01:00:00")]
    Task<ChildOutcome> ExpandAsync(IterationContext context, SearchState snapshot, int nodeId);

    [AlwaysInterleave]
    Task<TreeNodeSnapshot> GetAsync();
}

public static class PromptKeys
{
    public static string Prompt(string runId, int iteration, string promptId) => $"{runId}/{iteration}/{promptId}";

    public static string Node(string promptKey, int nodeId) => $"{promptKey}/{nodeId}";
}
