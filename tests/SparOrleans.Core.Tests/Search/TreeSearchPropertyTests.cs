using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Search;

/// <summary>Properties over many seeded random refiners (accuracy, invalid judgments, missing markers all varied).</summary>
public class TreeSearchPropertyTests
{
    private static IEnumerable<(SimulatedRefinerOptions Refiner, int Root)> Worlds(int count)
    {
        var random = new Random(42);
        for (var i = 0; i < count; i++)
        {
            yield return (new SimulatedRefinerOptions(random.NextDouble(), random.NextDouble(), random.NextDouble() * 0.4, random.NextDouble() * 0.4), i);
        }
    }

    [Theory]
    [InlineData(15)]
    [InlineData(100)]
    [InlineData(7)]
    [InlineData(2)]
    public async Task Bfs_AnyRefiner_NeverExceedsThreePlusSixPlusSixNorItsBudget(int budget)
    {
        foreach (var (refiner, root) in Worlds(200))
        {
            var state = await SearchRunner.RunAsync(
                SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, root, new TreeSearchOptions(MaxExpansions: budget)), new SimulatedRefiner(refiner, 1, root));

            Assert.InRange(state.Expansions, 1, Math.Min(15, budget));
            Assert.True(state.Nodes.Max(n => n.Depth) <= 3);
            Assert.True(state.Winner is null || state.Winner.Value > 0.5);
        }
    }

    [Theory]
    [InlineData(1, 3, 2, 3)]
    [InlineData(15, 3, 2, 3)]
    [InlineData(10, 3, 2, 4)]
    [InlineData(21, 4, 3, 3)]
    [InlineData(8, 2, 2, 5)]
    public async Task Dfs_AnyRefiner_NeverExceedsItsBudget(int budget, int branch, int keep, int depth)
    {
        var options = new TreeSearchOptions(branch, keep, depth, MaxExpansions: budget);
        foreach (var (refiner, root) in Worlds(150))
        {
            var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Dfs, root, options), new SimulatedRefiner(refiner, 2, root));

            Assert.InRange(state.Expansions, 1, budget);
            Assert.True(state.Nodes.Max(n => n.Depth) <= depth);
        }
    }

    [Fact]
    public async Task Search_ResumedFromSerialisedStateAfterAnyReport_EndsIdentically()
    {
        foreach (var policy in SearchTestKit.AllPolicies)
        {
            foreach (var (refiner, root) in Worlds(12))
            {
                var environment = new SimulatedRefiner(refiner, 7, root);
                var snapshots = new List<SearchState>();
                var final = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(policy, root), environment,
                    (s, _) => { snapshots.Add(s); return Task.CompletedTask; });
                var expected = SearchTestKit.Json(final);

                Assert.Equal(expected, SearchTestKit.Json(await SearchRunner.RunAsync(SearchTestKit.RoundTrip(SearchTestKit.StartSimulated(policy, root)), environment)));
                foreach (var snapshot in snapshots)
                {
                    var resumed = await SearchRunner.RunAsync(SearchTestKit.RoundTrip(snapshot), new SimulatedRefiner(refiner, 7, root));
                    Assert.Equal(expected, SearchTestKit.Json(resumed));
                }
            }
        }
    }

    [Fact]
    public async Task Search_ChildrenReportedInAnyOrder_EndsIdentically()
    {
        foreach (var policy in SearchTestKit.AllPolicies)
        {
            foreach (var (refiner, root) in Worlds(20))
            {
                var shuffle = new Random(root);
                var inOrder = await SearchTestKit.RunInOrderAsync(SearchTestKit.StartSimulated(policy, root), new SimulatedRefiner(refiner, 9, root), p => p);
                var reversed = await SearchTestKit.RunInOrderAsync(SearchTestKit.StartSimulated(policy, root), new SimulatedRefiner(refiner, 9, root), p => p.Reverse());
                var shuffled = await SearchTestKit.RunInOrderAsync(SearchTestKit.StartSimulated(policy, root), new SimulatedRefiner(refiner, 9, root), p => p.OrderBy(_ => shuffle.Next()));

                Assert.Equal(SearchTestKit.Json(inOrder), SearchTestKit.Json(reversed));
                Assert.Equal(SearchTestKit.Json(inOrder), SearchTestKit.Json(shuffled));
            }
        }
    }

    [Fact]
    public void SearchState_JsonRoundTrip_KeepsEveryField()
    {
        var state = SearchTestKit.StartSimulated(SearchPolicyKind.Dfs, 3);
        state = TreeSearch.Report(state, new ChildOutcome(1, "r\n[[start]]a[[end]]", "a",
            MajorityVote.Tally(["=> no", "=> yes", "=> no", "?", "=> no"], new CompactFormat(), VotingOptions.TreeSearch, "a")));

        var copy = SearchTestKit.RoundTrip(state);

        Assert.Equal(SearchTestKit.Json(state), SearchTestKit.Json(copy));
        Assert.Equal(state.Options, copy.Options);
        Assert.Equal(state.Voting, copy.Voting);
        Assert.Equal(0.25, copy.Nodes[1].Value);
        Assert.Equal(state.ValueCache.Keys, copy.ValueCache.Keys);
    }
}
