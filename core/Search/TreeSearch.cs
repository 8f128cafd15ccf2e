using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;

namespace SparOrleans.Core.Search;

/// <summary>
/// The search as a state machine over <see cref="SearchState"/>: <see cref="Start"/> makes the root and the first
/// requests; the caller expands every pending node (in parallel, any order) and hands each result to
/// <see cref="Report"/>; when a step's last child is reported the policy checks it and either ends the search or
/// requests the next children. All functions are pure: the same state and reports give the same result.
/// </summary>
/// <remarks>
/// BFS: the whole level is judged before the check, the best V above the threshold wins (ties: lowest id), else the
/// best <see cref="TreeSearchOptions.KeepBest"/> of the level are expanded next. DFS keeps its recursion as an
/// explicit stack of node ids (best child on top), so there is no shared variable for a recursive call to
/// overwrite (the reference's bug in its non-greedy branch) and <see cref="TreeSearchOptions.MaxExpansions"/> caps
/// it (without the cap the defaults reach 3 + 2 × (3 + 2 × 3) = 21). Failed and tied children are never searched.
/// </remarks>
public static class TreeSearch
{
    public static SearchState Start(
        SearchPolicyKind policy,
        string instruction,
        string rootResponse,
        string rootJudgment,
        TreeSearchOptions? options = null,
        VotingOptions? voting = null)
    {
        options = (options ?? new TreeSearchOptions()).Validated();
        voting = (voting ?? VotingOptions.TreeSearch).Validated();
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown search policy.");
        }
        var root = new SearchNode(0, -1, 0, 0, NodeStatus.Root, SamplingHint.Sample, rootResponse, null, rootJudgment, 0.0);
        // A refinement that returns the root unchanged is worth the root's value (0), not another judging.
        var rootVote = new Vote([rootJudgment], [Formats.Verdict.No], 0, 1, 0, Formats.Verdict.No, 0.0, 0, 0);
        var cache = new Dictionary<string, CachedValue> { [rootResponse] = new(0.0, rootJudgment, rootVote) };
        var state = new SearchState(policy, options, voting, instruction, [root], [], 0, cache, null);
        return policy switch
        {
            SearchPolicyKind.Greedy => Expand(state, [(0, 1)], SamplingHint.Greedy),
            SearchPolicyKind.Iterative => Expand(state, [(0, 1)]),
            SearchPolicyKind.BestOfN => Expand(state, [(0, options.MaxExpansions)]),
            _ => Expand(state, [(0, Math.Min(options.BranchFactor, options.MaxExpansions))]),
        };
    }

    /// <summary>The pending children grouped by parent, in id order.</summary>
    public static IReadOnlyList<ExpansionRequest> Requests(SearchState state) =>
        state.PendingNodes.GroupBy(n => n.ParentId)
            .Select(g => new ExpansionRequest(g.Key, g.Select(n => n.Id).ToList(), g.First().Hint))
            .ToList();

    /// <summary>The cached judging result for a response text, if this tree has judged it before.</summary>
    public static CachedValue? Cached(SearchState state, string response) =>
        state.ValueCache.TryGetValue(response, out var cached) ? cached : null;

    /// <summary>
    /// Records one child's outcome. A report for a node that is no longer pending is ignored (at-least-once delivery
    /// is safe); a report for an unknown node is a caller bug and throws.
    /// </summary>
    public static SearchState Report(SearchState state, ChildOutcome outcome)
    {
        if (outcome.NodeId <= 0 || outcome.NodeId >= state.Nodes.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), $"Node {outcome.NodeId} is not a child in this search.");
        }
        var node = state.Nodes[outcome.NodeId];
        if (node.Status != NodeStatus.Pending || state.IsFinished)
        {
            return state;
        }
        var vote = outcome.Vote;
        var status = outcome.Response is null ? NodeStatus.Failed
            : vote is null || vote.IsTie || vote.Value is null ? NodeStatus.Discarded
            : NodeStatus.Judged;
        var updated = node with
        {
            Status = status,
            Response = outcome.Response,
            RefinerOutput = outcome.RefinerOutput,
            Judgment = status == NodeStatus.Judged ? vote!.KeptJudgment : null,
            Value = status == NodeStatus.Judged ? vote!.Value : null,
            Vote = vote,
            FromCache = outcome.FromCache,
        };
        var nodes = state.Nodes.ToArray();
        nodes[node.Id] = updated;
        state = state with { Nodes = nodes };
        return nodes.Any(n => n.Status == NodeStatus.Pending) ? state : CompleteStep(state);
    }

    private static SearchState CompleteStep(SearchState state)
    {
        var children = state.Nodes.Where(n => n.Step == state.Step && n.Status == NodeStatus.Judged).ToList();
        var cache = new Dictionary<string, CachedValue>(state.ValueCache);
        foreach (var child in children.Where(c => !c.FromCache))
        {
            cache.TryAdd(child.Response!, new CachedValue(child.Value!.Value, child.Judgment!, child.Vote!));
        }
        state = state with { ValueCache = cache };

        var ranked = Rank(children);
        if (ranked.Count > 0 && ranked[0].Value > state.Options.WinThreshold)
        {
            return Finish(state, ranked[0].Id, "winner");
        }
        var remaining = state.Options.MaxExpansions - state.Expansions;
        return state.Policy switch
        {
            SearchPolicyKind.Greedy or SearchPolicyKind.BestOfN => Finish(state, null, "no winner"),
            SearchPolicyKind.Bfs => NextBfsLevel(state, ranked, remaining),
            SearchPolicyKind.Dfs => NextDfsNode(state, ranked, remaining),
            SearchPolicyKind.Iterative => NextIteration(state, ranked, remaining),
            _ => throw new InvalidOperationException($"Unknown policy {state.Policy}."),
        };
    }

    private static SearchState NextBfsLevel(SearchState state, List<SearchNode> level, int remaining)
    {
        var depth = state.Nodes[^1].Depth;
        if (level.Count == 0 || depth >= state.Options.MaxDepth || remaining <= 0)
        {
            return Finish(state, null, level.Count == 0 ? "every child failed or tied" : depth >= state.Options.MaxDepth ? "depth limit" : "budget spent");
        }
        var plan = new List<(int Parent, int Count)>();
        foreach (var parent in level.Take(state.Options.KeepBest))
        {
            var count = Math.Min(state.Options.BranchFactor, remaining);
            if (count > 0)
            {
                plan.Add((parent.Id, count));
                remaining -= count;
            }
        }
        return Expand(state, plan);
    }

    private static SearchState NextDfsNode(SearchState state, List<SearchNode> children, int remaining)
    {
        var stack = state.Frontier.ToList();
        if (children.Count > 0 && children[0].Depth < state.Options.MaxDepth)
        {
            // Best on top: the recursion visits the best child first, then the next best.
            stack.AddRange(children.Take(state.Options.KeepBest).Reverse().Select(c => c.Id));
        }
        if (stack.Count == 0 || remaining <= 0)
        {
            return Finish(state with { Frontier = stack }, null, stack.Count == 0 ? "search exhausted" : "budget spent");
        }
        var next = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return Expand(state with { Frontier = stack }, [(next, Math.Min(state.Options.BranchFactor, remaining))]);
    }

    private static SearchState NextIteration(SearchState state, List<SearchNode> children, int remaining)
    {
        if (remaining <= 0)
        {
            return Finish(state, null, "budget spent");
        }
        // A failed or tied refinement is retried from the same parent.
        var parent = children.Count > 0 ? children[0].Id : state.Nodes[^1].ParentId;
        return Expand(state, [(parent, 1)]);
    }

    private static List<SearchNode> Rank(IEnumerable<SearchNode> nodes) =>
        nodes.Where(n => n.Status == NodeStatus.Judged).OrderByDescending(n => n.Value).ThenBy(n => n.Id).ToList();

    private static SearchState Expand(SearchState state, IReadOnlyList<(int Parent, int Count)> plan, SamplingHint hint = SamplingHint.Sample)
    {
        var step = state.Step + 1;
        var nodes = state.Nodes.ToList();
        foreach (var (parent, count) in plan)
        {
            for (var i = 0; i < count; i++)
            {
                nodes.Add(new SearchNode(nodes.Count, parent, state.Nodes[parent].Depth + 1, step, NodeStatus.Pending, hint));
            }
        }
        return state with { Nodes = nodes, Step = step };
    }

    private static SearchState Finish(SearchState state, int? winner, string reason)
    {
        var best = Rank(state.Nodes.Skip(1)).FirstOrDefault();
        return state with { End = new SearchEnd(winner, best?.Id, reason) };
    }
}
