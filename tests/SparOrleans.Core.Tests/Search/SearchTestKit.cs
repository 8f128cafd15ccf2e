using System.Text.Json;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Search;

internal static class SearchTestKit
{
    public static readonly SearchPolicyKind[] AllPolicies = Enum.GetValues<SearchPolicyKind>();

    public static SearchState StartSimulated(SearchPolicyKind policy, int root, TreeSearchOptions? options = null) =>
        TreeSearch.Start(policy, $"instruction {root}", SimulatedRefiner.RootResponse(root),
            new CompactFormat().RenderJudgment(new JudgmentContent([new ConstraintCheck("c", "bad", false)], false)), options);

    public static string Json(SearchState state) => JsonSerializer.Serialize(state);

    public static SearchState RoundTrip(SearchState state) => JsonSerializer.Deserialize<SearchState>(JsonSerializer.Serialize(state))!;

    /// <summary>Reports every pending child in the given order of their ids, step after step, to the end.</summary>
    public static async Task<SearchState> RunInOrderAsync(SearchState state, IRefinementEnvironment environment, Func<IReadOnlyList<SearchNode>, IEnumerable<SearchNode>> order)
    {
        while (!state.IsFinished)
        {
            var snapshot = state;
            var outcomes = new Dictionary<int, ChildOutcome>();
            foreach (var node in snapshot.PendingNodes)
            {
                outcomes[node.Id] = await SearchRunner.ExpandChildAsync(snapshot, node.Id, environment);
            }
            foreach (var node in order(snapshot.PendingNodes))
            {
                state = TreeSearch.Report(state, outcomes[node.Id]);
            }
        }
        return state;
    }
}
