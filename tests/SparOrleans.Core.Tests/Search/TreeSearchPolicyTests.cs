using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Search;

public class TreeSearchPolicyTests
{
    private static ScriptedEnvironment NeverWins() =>
        new(call => $"try {call.NodeId} v2", call => ScriptedEnvironment.VotesFromText(call.Response));

    [Fact]
    public async Task Bfs_NoWinner_ExpandsThreePlusSixPlusSixAcrossThreeLevels()
    {
        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0), NeverWins());

        Assert.Equal(15, state.Expansions);
        Assert.Equal([3, 6, 6], state.Nodes.Skip(1).GroupBy(n => n.Depth).Select(g => g.Count()));
        Assert.Null(state.End!.WinnerId);
        Assert.Equal("depth limit", state.End.Reason);
        Assert.NotNull(state.End.BestId);
    }

    [Theory]
    [InlineData(15, 15)]
    [InlineData(100, 21)]
    [InlineData(7, 7)]
    public async Task Dfs_NoWinner_StopsAtBudgetOrFullRecursion(int budget, int expected)
    {
        var state = await SearchRunner.RunAsync(
            SearchTestKit.StartSimulated(SearchPolicyKind.Dfs, 0, new TreeSearchOptions(MaxExpansions: budget)), NeverWins());

        Assert.Equal(expected, state.Expansions);
        Assert.Null(state.Winner);
    }

    [Fact]
    public async Task Dfs_BestFirst_RecursesIntoTheBestChildThenTheNextBest()
    {
        // Root's children: v1, v2, v0; each grandchild v1. The best (v2, id 2) is expanded first, then v1 (id 1).
        var env = new ScriptedEnvironment(
            call => call.NodeId <= 3 ? $"child {call.NodeId} v{new[] { 0, 1, 2, 0 }[call.NodeId]}" : $"deep {call.NodeId} v1",
            call => ScriptedEnvironment.VotesFromText(call.Response));

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Dfs, 0), env);

        var parents = state.Nodes.Skip(1).Select(n => n.ParentId).Distinct().ToList();
        Assert.Equal([0, 2], parents.Take(2));
        Assert.Equal(state.Nodes.First(n => n.ParentId == 2).Id + 3, state.Nodes.First(n => n.Depth == 3).Id);
        Assert.Contains(1, parents);
        Assert.True(parents.IndexOf(2) < parents.IndexOf(1));
    }

    [Fact]
    public async Task Bfs_WinnerOnSecondLevel_JudgesTheWholeLevelAndPicksTheBest()
    {
        // Level 2 holds a v3 (id 5) and a later v4 (id 9): the whole level is judged, the best wins.
        var env = new ScriptedEnvironment(
            call => call.NodeId switch { 5 => "a v3", 9 => "b v4", _ => $"x{call.NodeId} v{(call.NodeId <= 3 ? call.NodeId % 3 : 1)}" },
            call => ScriptedEnvironment.VotesFromText(call.Response));

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0), env);

        Assert.Equal(9, state.End!.WinnerId);
        Assert.Equal(9, state.Expansions);
        Assert.Equal(0.8, state.Winner!.Value!.Value, 10);
        Assert.Equal(2, state.Winner.Depth);
    }

    [Fact]
    public async Task Search_RefinementWithoutMarkers_RetriesThenFailsTheChild()
    {
        var env = new ScriptedEnvironment(_ => null, _ => "yyyyy");

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0), env);

        Assert.Equal(9, env.RefineCalls);
        Assert.Equal(0, env.JudgeCalls);
        Assert.All(state.Nodes.Skip(1), n => Assert.Equal(NodeStatus.Failed, n.Status));
        Assert.Equal("every child failed or tied", state.End!.Reason);
    }

    [Fact]
    public async Task Search_AlwaysTiedVotes_RejudgesThreeTimesThenDiscards()
    {
        var env = new ScriptedEnvironment(call => $"t{call.NodeId}", _ => "yynnx");

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Dfs, 0), env);

        Assert.Equal(3, state.Expansions);
        Assert.Equal(12, env.JudgeCalls);
        Assert.All(state.Nodes.Skip(1), n => Assert.Equal((NodeStatus.Discarded, 4), (n.Status, n.Vote!.Rounds)));
        Assert.Null(state.End!.BestId);
    }

    [Fact]
    public async Task Search_RepeatedResponseText_UsesCachedValueInsteadOfJudging()
    {
        // Every refinement returns the same text with value 2/5: judged once, cached for the next steps.
        var env = new ScriptedEnvironment(_ => "same v2", call => ScriptedEnvironment.VotesFromText(call.Response));

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Iterative, 0), env);

        Assert.Equal(15, state.Expansions);
        Assert.Equal(1, env.JudgeCalls);
        Assert.Equal(14, state.Nodes.Count(n => n.FromCache));
        Assert.All(state.Nodes.Skip(1), n => Assert.Equal(0.4, n.Value!.Value, 10));
    }

    [Fact]
    public async Task Search_RefinementReturningTheRoot_GetsTheRootValueWithoutJudging()
    {
        var env = new ScriptedEnvironment(_ => SimulatedRefiner.RootResponse(0), _ => "yyyyy");

        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(SearchPolicyKind.Greedy, 0), env);

        Assert.Equal(0, env.JudgeCalls);
        Assert.Equal(0.0, state.Nodes[1].Value);
        Assert.Null(state.Winner);
    }

    [Theory]
    [InlineData(SearchPolicyKind.Greedy, 1)]
    [InlineData(SearchPolicyKind.Iterative, 15)]
    [InlineData(SearchPolicyKind.BestOfN, 15)]
    public async Task Strategies_NoWinner_SpendTheirBudget(SearchPolicyKind policy, int expected)
    {
        var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(policy, 0), NeverWins());

        Assert.Equal(expected, state.Expansions);
        Assert.Equal(policy == SearchPolicyKind.Iterative ? 15 : 1, state.Nodes.Skip(1).Max(n => n.Depth));
        Assert.All(state.Nodes.Skip(1), n => Assert.Equal(policy == SearchPolicyKind.Greedy ? SamplingHint.Greedy : SamplingHint.Sample, n.Hint));
    }

    [Theory]
    [InlineData(SearchPolicyKind.Bfs)]
    [InlineData(SearchPolicyKind.Dfs)]
    [InlineData(SearchPolicyKind.Greedy)]
    [InlineData(SearchPolicyKind.Iterative)]
    [InlineData(SearchPolicyKind.BestOfN)]
    public async Task Search_AlwaysRightRefiner_FindsAWinnerAtDepthOneForEveryRoot(SearchPolicyKind policy)
    {
        for (var root = 0; root < 50; root++)
        {
            var env = new SimulatedRefiner(new SimulatedRefinerOptions(1.0), seed: 3, root);
            var state = await SearchRunner.RunAsync(SearchTestKit.StartSimulated(policy, root), env);

            Assert.Equal(1, state.Winner?.Depth);
            Assert.True(SimulatedRefiner.IsCorrect(state.Winner!.Response!));
            Assert.Equal(1.0, state.Winner.Value);
        }
    }

    [Fact]
    public void Report_UnknownNode_Throws_AndRepeatedReportIsIgnored()
    {
        var state = SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0);
        var outcome = new ChildOutcome(1, "x\n[[start]]a[[end]]", "a", null);

        var once = TreeSearch.Report(state, outcome);

        Assert.Same(once, TreeSearch.Report(once, outcome));
        Assert.Equal(NodeStatus.Discarded, once.Nodes[1].Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => TreeSearch.Report(state, outcome with { NodeId = 99 }));
    }

    [Fact]
    public void Requests_FirstBfsStep_IsTheRootWithThreeChildren()
    {
        var request = Assert.Single(TreeSearch.Requests(SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0)));

        Assert.Equal(0, request.ParentId);
        Assert.Equal([1, 2, 3], request.ChildIds);
        Assert.Equal(SamplingHint.Sample, request.Hint);
    }

    [Fact]
    public void Start_InvalidOptions_ThrowsWithEveryProblem()
    {
        var e = Assert.Throws<InvalidOptionsException>(() =>
            SearchTestKit.StartSimulated(SearchPolicyKind.Bfs, 0, new TreeSearchOptions(BranchFactor: 0, WinThreshold: 1.5)));

        Assert.Contains("BranchFactor must be between 1 and 16 (got 0)", e.Message);
        Assert.Contains("WinThreshold must be between 0 and 1 (got 1.5)", e.Message);
    }
}
