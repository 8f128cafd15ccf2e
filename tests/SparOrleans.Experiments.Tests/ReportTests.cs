using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments.Tests;

/// <summary>The experiments' claims on hand-made results: the verdicts follow the paired tests, not the means alone.</summary>
public sealed class ReportTests
{
    private static SeedStat Seeds(params double[] values) => SeedStat.Of(values);

    private static StrategyResult Strategy(string policy, SeedStat strong, SeedStat own) => new(policy, strong, own, own, Seeds(1));

    [Fact]
    public void Strategies_TreeSearchAboveInMeanButNotOnEverySeed_NotReproduced()
    {
        var level = Seeds(0.70, 0.72, 0.68, 0.71, 0.69);
        var result = new StrategyExperimentResult(new StrategyExperimentOptions(Seeds: 5), [
            Strategy("greedy", level, level),
            Strategy("best-of-n", level, level),
            Strategy("iterative", level, level),
            // BFS beats the others clearly on every seed; DFS only in the mean (one seed far above, the rest below).
            Strategy("bfs", Seeds(0.80, 0.82, 0.79, 0.81, 0.80), Seeds(0.90, 0.92, 0.89, 0.91, 0.90)),
            Strategy("dfs", Seeds(0.95, 0.69, 0.66, 0.70, 0.68), Seeds(0.96, 0.70, 0.67, 0.71, 0.69)),
        ], 1);

        var claims = ReportWriter.Render(StrategyReport.Instance, result, new ReportPlace("/tmp/x", "/tmp/results.md")).Claims;
        var verdict = StrategyReport.Verdict(result, claims);

        Assert.Equal(8, claims.Count);
        Assert.True(claims.Single(c => c.Statement == "BFS beats Greedy (strong judge)").Holds);
        Assert.False(claims.Single(c => c.Statement == "DFS beats Greedy (strong judge)").Holds);
        Assert.False(verdict.TreeSearchWins);
        Assert.True(claims.Single(c => c.Statement == "BFS: the self-judge (own vote) scores above the strong judge").Holds);
        Assert.All(claims, c => Assert.NotNull(c.HolmP));
    }

    [Fact]
    public void RefinerCaseClaims_PerSeed_McNemarOfFinalAgainstStart()
    {
        var (better, start) = PairedTestsTests.Cases(onlyAfter: 10, onlyBefore: 2, both: 8, neither: 5);
        var (same, start2) = PairedTestsTests.Cases(onlyAfter: 3, onlyBefore: 3, both: 10, neither: 4);

        var claims = LoopReport.RefinerCaseClaims([(1, start, better), (2, start2, same)]);

        Assert.Equal(["SPaR's final refiner judges more frozen cases right than R_0 (seed 1)", "SPaR's final refiner judges more frozen cases right than R_0 (seed 2)"],
            claims.Select(c => c.Statement));
        Assert.Equal(79.0 / 4096, claims[0].Outcome.P!.Value, 12);
        Assert.True(claims[0].Holds);
        Assert.Equal(42.0 / 64, claims[1].Outcome.P!.Value, 12);
        Assert.False(claims[1].Holds);
    }

    [Fact]
    public void UpdateResults_SectionRewritten_OthersKeptInNumberOrder()
    {
        var path = Path.Combine(Path.GetTempPath(), $"spar-results-{Guid.NewGuid():N}.md");
        try
        {
            ReportWriter.UpdateResults(path, "## 4. Four\n\nstale line\n");
            ReportWriter.UpdateResults(path, "## 1. One\n\nfirst\n");
            ReportWriter.UpdateResults(path, "## 4. Four\n\nfresh line\n");

            var text = File.ReadAllText(path);
            Assert.StartsWith("# Results: the paper's claims in the simulator", text);
            Assert.True(text.IndexOf("## 1. One", StringComparison.Ordinal) < text.IndexOf("## 4. Four", StringComparison.Ordinal));
            Assert.Contains("fresh line", text);
            Assert.DoesNotContain("stale line", text);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
