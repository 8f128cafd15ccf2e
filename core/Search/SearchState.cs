using System.Text.Json.Serialization;
using SparOrleans.Core.Judging;

namespace SparOrleans.Core.Search;

public enum NodeStatus
{
    /// <summary>The tree's root: the negative response, value 0, with its kept judgment.</summary>
    Root,

    /// <summary>Requested by the policy, not yet reported.</summary>
    Pending,

    /// <summary>Refined and judged: it has a value.</summary>
    Judged,

    /// <summary>Every judging round tied (after the re-judges): no value, not searched further.</summary>
    Discarded,

    /// <summary>No refined text between the markers after every attempt.</summary>
    Failed,
}

/// <summary>How the caller should sample the refinement: greedy decoding for the greedy strategy, else sampling.</summary>
public enum SamplingHint
{
    Sample,
    Greedy,
}

/// <summary>
/// One node of a refinement tree. <see cref="Step"/> is the policy step that requested it; <see cref="Judgment"/>
/// is the kept judgment (the one the node's own refinement will condition on); <see cref="RefinerOutput"/> is the
/// refiner's full text (reflection + markers) that produced <see cref="Response"/>.
/// </summary>
public sealed record SearchNode(
    int Id,
    int ParentId,
    int Depth,
    int Step,
    NodeStatus Status,
    SamplingHint Hint,
    string? Response = null,
    string? RefinerOutput = null,
    string? Judgment = null,
    double? Value = null,
    Vote? Vote = null,
    bool FromCache = false);

/// <summary>A cached judging result for a response text: the same text is never judged twice in one tree.</summary>
public sealed record CachedValue(double Value, string Judgment, Vote Vote);

/// <summary>Why a search ended, its winner (V above the threshold) if any, and its best judged node.</summary>
public sealed record SearchEnd(int? WinnerId, int? BestId, string Reason);

/// <summary>
/// The whole state of one search: pure data that round-trips through System.Text.Json, so a grain can persist it
/// and a restored search continues to the identical result. <see cref="Nodes"/> is indexed by id (root = 0);
/// <see cref="Frontier"/> is the DFS stack (top = last) and unused by the other policies; <see cref="ValueCache"/>
/// grows only when a step completes, so every child of a step sees the same cache.
/// </summary>
public sealed record SearchState(
    SearchPolicyKind Policy,
    TreeSearchOptions Options,
    VotingOptions Voting,
    string Instruction,
    IReadOnlyList<SearchNode> Nodes,
    IReadOnlyList<int> Frontier,
    int Step,
    IReadOnlyDictionary<string, CachedValue> ValueCache,
    SearchEnd? End)
{
    [JsonIgnore]
    public bool IsFinished => End is not null;

    /// <summary>Children requested so far (the generation budget spent).</summary>
    [JsonIgnore]
    public int Expansions => Nodes.Count - 1;

    [JsonIgnore]
    public SearchNode Root => Nodes[0];

    [JsonIgnore]
    public SearchNode? Winner => End?.WinnerId is { } id ? Nodes[id] : null;

    /// <summary>The nodes the caller must expand now (each: one refinement, then k judge samples).</summary>
    [JsonIgnore]
    public IReadOnlyList<SearchNode> PendingNodes => Nodes.Where(n => n.Status == NodeStatus.Pending).ToList();
}

/// <summary>The caller's result for one pending child.</summary>
/// <param name="NodeId">The pending node.</param>
/// <param name="RefinerOutput">The refiner's last full output (null if none was produced).</param>
/// <param name="Response">The refined text between the markers; null = failed generation.</param>
/// <param name="Vote">The vote on <paramref name="Response"/>; a tie discards the child.</param>
/// <param name="FromCache">The vote came from <see cref="SearchState.ValueCache"/>.</param>
public sealed record ChildOutcome(int NodeId, string? RefinerOutput, string? Response, Vote? Vote, bool FromCache = false);

/// <summary>One parent to expand and the ids its new children got (for callers that fan out per parent).</summary>
public sealed record ExpansionRequest(int ParentId, IReadOnlyList<int> ChildIds, SamplingHint Hint);
