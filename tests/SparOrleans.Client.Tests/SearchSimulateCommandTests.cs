using System.Text.Json;
using SparOrleans.Client.Cli;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public class SearchSimulateCommandTests
{
    [Theory]
    [InlineData("bfs", 15)]
    [InlineData("dfs", 15)]
    [InlineData("greedy", 1)]
    [InlineData("iterative", 15)]
    [InlineData("best-of-n", 15)]
    public async Task Simulate_JsonFormat_PrintsOneObjectWithTheRequiredKeys(string policy, int bound)
    {
        var (code, stdout, _) = await Spar("search", "simulate", "--policy", policy, "--refiner-accuracy", "0.5", "--n", "200", "--seed", "3", "--format", "json");

        Assert.Equal(ExitCodes.Success, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(policy, json.GetProperty("policy").GetString());
        Assert.InRange(json.GetProperty("success_rate").GetDouble(), 0.0, 1.0);
        Assert.InRange(json.GetProperty("mean_expansions").GetDouble(), 1.0, bound);
        Assert.InRange(json.GetProperty("max_expansions").GetInt32(), 1, bound);
        Assert.Equal(200, json.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Simulate_AlwaysRightRefiner_SucceedsForEveryRootWithOneLevel()
    {
        var (code, stdout, _) = await Spar("search", "simulate", "--policy", "dfs", "--refiner-accuracy", "1", "--n", "50", "--format", "json");

        Assert.Equal(ExitCodes.Success, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(1.0, json.GetProperty("success_rate").GetDouble());
        Assert.Equal(3.0, json.GetProperty("mean_expansions").GetDouble());
    }

    [Fact]
    public async Task Simulate_SameSeed_PrintsTheSameResult()
    {
        var first = await Spar("search", "simulate", "--policy", "bfs", "--refiner-accuracy", "0.3", "--n", "100", "--seed", "9", "--format", "json");
        var second = await Spar("search", "simulate", "--policy", "bfs", "--refiner-accuracy", "0.3", "--n", "100", "--seed", "9", "--format", "json");

        Assert.Equal(first.Out, second.Out);
    }

    [Fact]
    public async Task Simulate_TextFormat_PrintsAHumanLine()
    {
        var (code, stdout, _) = await Spar("search", "simulate", "--policy", "greedy", "--n", "20");

        Assert.Equal(ExitCodes.Success, code);
        Assert.StartsWith("greedy: success ", stdout);
    }

    [Theory]
    [InlineData("--refiner-accuracy", "1.5", "RefinerAccuracy must be between 0 and 1 (got 1.5)")]
    [InlineData("--budget", "0", "MaxExpansions must be between 1 and 1000 (got 0)")]
    [InlineData("--n", "0", "n must be between 1 and 100000 (got 0)")]
    public async Task Simulate_OutOfRangeValue_ExitsTwoWithOneLineError(string option, string value, string message)
    {
        var (code, stdout, stderr) = await Spar("search", "simulate", option, value, "--format", "json");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Simulate_UnknownPolicy_ExitsTwoNamingTheChoices()
    {
        var (code, stdout, stderr) = await Spar("search", "simulate", "--policy", "astar");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", stdout);
        Assert.Equal("error: Unknown policy 'astar': use bfs, dfs, greedy, iterative or best-of-n.", stderr.Trim());
    }
}
