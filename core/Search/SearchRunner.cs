using SparOrleans.Core.Judging;

namespace SparOrleans.Core.Search;

/// <summary>Drives a <see cref="SearchState"/> to its end against an <see cref="IRefinementEnvironment"/>.</summary>
public static class SearchRunner
{
    /// <summary>
    /// Expands one pending child: refine (retrying a missing marker up to
    /// <see cref="TreeSearchOptions.RefineAttempts"/> times), reuse the cached value for a known text, else judge
    /// with voting and tie re-judges. Reads only <paramref name="state"/>'s tree and cache, so siblings may run in
    /// parallel against the same snapshot.
    /// </summary>
    public static async Task<ChildOutcome> ExpandChildAsync(
        SearchState state, int nodeId, IRefinementEnvironment environment, CancellationToken cancellationToken = default)
    {
        var node = state.Nodes[nodeId];
        var parent = state.Nodes[node.ParentId];
        string? output = null;
        string? response = null;
        for (var attempt = 0; attempt < state.Options.RefineAttempts && response is null; attempt++)
        {
            output = await environment.RefineAsync(
                new RefineCall(state.Instruction, parent.Response!, parent.Judgment!, nodeId, attempt, node.Hint),
                cancellationToken).ConfigureAwait(false);
            response = environment.Format.ParseRefinement(output);
        }
        if (response is null)
        {
            return new ChildOutcome(nodeId, output, null, null);
        }
        if (TreeSearch.Cached(state, response) is { } cached)
        {
            return new ChildOutcome(nodeId, output, response, cached.Vote, FromCache: true);
        }
        var vote = await MajorityVote.JudgeAsync(
            (round, samples, ct) => environment.JudgeAsync(new JudgeCall(state.Instruction, response, nodeId, round, samples), ct),
            environment.Format, state.Voting, response, cancellationToken).ConfigureAwait(false);
        return new ChildOutcome(nodeId, output, response, vote);
    }

    /// <summary>
    /// Runs the search to its end: each step's children are expanded concurrently and reported as they complete.
    /// <paramref name="onReport"/> sees every intermediate state (to persist it); a state restored from any of
    /// them and passed back here continues to the same result when the environment is deterministic.
    /// </summary>
    public static Task<SearchState> RunAsync(
        SearchState state,
        IRefinementEnvironment environment,
        Func<SearchState, CancellationToken, Task>? onReport = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(state, (snapshot, nodeId, ct) => ExpandChildAsync(snapshot, nodeId, environment, ct), onReport, cancellationToken);

    /// <summary>
    /// The same loop with the expansion of each child delegated (e.g. to a tree-node grain that runs
    /// <see cref="ExpandChildAsync"/> elsewhere): the policy, ordering and reporting stay in one place.
    /// </summary>
    public static async Task<SearchState> RunAsync(
        SearchState state,
        Func<SearchState, int, CancellationToken, Task<ChildOutcome>> expandChild,
        Func<SearchState, CancellationToken, Task>? onReport = null,
        CancellationToken cancellationToken = default)
    {
        while (!state.IsFinished)
        {
            var snapshot = state;
            var running = snapshot.PendingNodes.Select(n => expandChild(snapshot, n.Id, cancellationToken)).ToList();
            // No ConfigureAwait(false) here: the callbacks belong to the caller (a grain persists its state in
            // onReport) and must run on the caller's scheduling context.
            while (running.Count > 0)
            {
                var done = await Task.WhenAny(running);
                running.Remove(done);
                state = TreeSearch.Report(state, await done);
                if (onReport is not null)
                {
                    await onReport(state, cancellationToken);
                }
            }
        }
        return state;
    }
}
