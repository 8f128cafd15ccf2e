using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public sealed class ExperimentStrategiesCommandTests() : ExperimentFolder("strategies")
{
    [Fact]
    public async Task Strategies_SmallN_WritesTableJsonPlotAndResultsSection()
    {
        var (code, output, error) = await Spar("experiment", "strategies", "--n", "40", "--seeds", "3",
            "--output", Output("strategies"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var json = JsonDocument.Parse(output).RootElement;
        var strategies = json.GetProperty("result").GetProperty("strategies").EnumerateArray().ToList();
        Assert.Equal(["greedy", "best-of-n", "iterative", "bfs", "dfs"], strategies.Select(s => s.GetProperty("policy").GetString()));
        foreach (var s in strategies)
        {
            foreach (var figure in new[] { "strong_judge", "self_judge_own_vote", "self_judge_fresh_vote" })
            {
                var stat = s.GetProperty(figure);
                Assert.Equal(3, stat.GetProperty("per_seed").GetArrayLength());
                Assert.All(stat.GetProperty("per_seed").EnumerateArray(), v => Assert.InRange(v.GetDouble(), 0, 1));
            }
            Assert.InRange(s.GetProperty("mean_expansions").GetProperty("mean").GetDouble(), 1, 15);
        }
        Assert.Equal(1, strategies[0].GetProperty("mean_expansions").GetProperty("mean").GetDouble());
        // Greedy's single refinement succeeds with P = 0.7 per root: its seeds draw different roots' outcomes.
        Assert.True(strategies[0].GetProperty("strong_judge").GetProperty("std").GetDouble() > 0);
        Assert.InRange(strategies[0].GetProperty("strong_judge").GetProperty("mean").GetDouble(), 0.5, 0.9);

        var table = File.ReadAllText(Path.Combine(Output("strategies"), "table.md"));
        Assert.All(new[] { "| Greedy | 69.5 | 65.0 |", "| Best of N | 74.0 | 80.0 |", "| BFS | 79.0 | 90.5 |", "| DFS | 79.0 | 90.0 |" },
            row => Assert.Contains(row, table));
        Assert.True(new FileInfo(Path.Combine(Output("strategies"), "strategies.png")).Length > 1000);
        Assert.Equal(3, JsonDocument.Parse(File.ReadAllText(Path.Combine(Output("strategies"), "results.json"))).RootElement
            .GetProperty("result").GetProperty("options").GetProperty("seeds").GetInt32());
        var results = File.ReadAllText(ResultsMd);
        Assert.StartsWith("# Results: the paper's claims in the simulator", results);
        Assert.Contains("## 4. Refinement strategies at equal budget (Table 10)", results);
        Assert.Matches("\\*\\*(reproduced|not reproduced)\\*\\*", results);
        Assert.Matches("- BFS beats Greedy \\(strong judge\\): \\*\\*(reproduced|not reproduced)\\*\\* \\(paired t over 3 seeds: ", results);
        // Three seeds are too few for a claim: the command still runs and says so on stderr.
        Assert.Contains("warning: claims tested over 3 seeds; at least 5 are needed for a claim (--seeds 5)", error);
    }

    [Fact]
    public async Task Strategies_Rerun_ReplacesItsSectionAndKeepsTheOthers()
    {
        File.WriteAllText(ResultsMd, ExperimentCommand.Header + "\n## 1. Another experiment\n\nkept line\n");
        string[] args = ["experiment", "strategies", "--n", "5", "--seeds", "1", "--output", Output("strategies"), "--results", ResultsMd];

        Assert.Equal(ExitCodes.Success, (await Spar(args)).Code);
        Assert.Equal(ExitCodes.Success, (await Spar([.. args.Take(3), "6", .. args.Skip(4)])).Code);

        var results = File.ReadAllText(ResultsMd);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(results, "## 4\\. Refinement strategies"));
        Assert.Contains("--n 6 --seeds 1", results);
        Assert.DoesNotContain("--n 5 --seeds 1", results);
        Assert.Contains("kept line", results);
    }

    [Theory]
    [InlineData("--seeds", "0", "Seeds")]
    [InlineData("--refiner-accuracy", "1.5", "RefinerAccuracy")]
    public async Task Strategies_OutOfRangeOption_ExitsWithUserErrorNamingIt(string option, string value, string name)
    {
        var (code, _, error) = await Spar("experiment", "strategies", option, value, "--output", Output("strategies"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
        Assert.Contains(name, error);
        Assert.False(File.Exists(ResultsMd));
    }
}
