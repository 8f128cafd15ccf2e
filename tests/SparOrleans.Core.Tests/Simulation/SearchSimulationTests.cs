using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Simulation;

public class SearchSimulationTests
{
    [Fact]
    public async Task RunAsync_AlwaysRightRefiner_SucceedsEverywhereAtDepthOne()
    {
        foreach (var policy in Enum.GetValues<SearchPolicyKind>())
        {
            var summary = await SearchSimulation.RunAsync(policy, new SimulatedRefinerOptions(1.0), 100, 0);

            Assert.Equal(1.0, summary.SuccessRate);
            Assert.Equal(1.0, summary.MeanWinnerDepth);
            Assert.Equal(policy is SearchPolicyKind.Bfs or SearchPolicyKind.Dfs ? 3 : policy == SearchPolicyKind.BestOfN ? 15 : 1, summary.MaxExpansions);
        }
    }

    [Fact]
    public async Task RunAsync_SameSeed_IsReproducibleAndTreeSearchBeatsGreedy()
    {
        var refiner = new SimulatedRefinerOptions(0.5, JudgeAccuracy: 0.9);
        var bfs = await SearchSimulation.RunAsync(SearchPolicyKind.Bfs, refiner, 300, 4);
        var greedy = await SearchSimulation.RunAsync(SearchPolicyKind.Greedy, refiner, 300, 4);

        Assert.Equal(bfs, await SearchSimulation.RunAsync(SearchPolicyKind.Bfs, refiner, 300, 4));
        Assert.True(bfs.SuccessRate > greedy.SuccessRate + 0.2, $"bfs {bfs.SuccessRate} vs greedy {greedy.SuccessRate}");
        Assert.InRange(greedy.SuccessRate, 0.35, 0.65);
        Assert.True(bfs.MaxExpansions <= 15);
    }

    [Fact]
    public async Task SimulatedRefiner_NeverRight_NeverFixesAndJudgesWrongly()
    {
        var refiner = new SimulatedRefiner(new SimulatedRefinerOptions(0.0), 1, 0);

        var output = await refiner.RefineAsync(new RefineCall("i", SimulatedRefiner.RootResponse(0), "=> no", 1, 0, SamplingHint.Sample), default);
        var judgments = await refiner.JudgeAsync(new JudgeCall("i", "answer 0 [fixed]", 1, 0, 5), default);

        Assert.False(SimulatedRefiner.IsCorrect(refiner.Format.ParseRefinement(output)!));
        Assert.All(judgments, j => Assert.EndsWith("=> no", j));
    }

    [Fact]
    public async Task RunAsync_BadArguments_AreUserErrors()
    {
        await Assert.ThrowsAsync<UserInputException>(() => SearchSimulation.RunAsync(SearchPolicyKind.Bfs, new SimulatedRefinerOptions(0.5), 0, 0));
        Assert.Throws<InvalidOptionsException>(() => new SimulatedRefinerOptions(1.5).Validated());
        Assert.Throws<UserInputException>(() => SearchSimulation.ParsePolicy("astar"));
        Assert.Equal(SearchPolicyKind.BestOfN, SearchSimulation.ParsePolicy("best-of-n"));
    }
}
