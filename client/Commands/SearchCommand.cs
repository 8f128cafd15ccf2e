using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar search simulate</c>: runs a refinement policy against the simulated refiner (see
/// <see cref="SimulatedRefiner"/>: each refinement fixes a flawed response with probability P, each judge sample
/// is right with probability P unless <c>--judge-accuracy</c> says otherwise) and prints success rate and expansions.
/// </summary>
public static class SearchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var search = new Command("search", "Tree-search refinement (BFS, DFS, and the Table 10 strategies).");
        search.Subcommands.Add(CreateSimulate(stdout, stderr));
        return search;
    }

    private static Command CreateSimulate(TextWriter stdout, TextWriter stderr)
    {
        var policy = new Option<string>("--policy")
        {
            Description = "bfs, dfs, greedy, iterative or best-of-n",
            DefaultValueFactory = _ => "bfs",
        };
        var accuracy = new Option<double>("--refiner-accuracy")
        {
            Description = "P in 0..1: chance that a refinement fixes a flawed response (and, by default, that a judge sample is right)",
            DefaultValueFactory = _ => 0.5,
        };
        var judgeAccuracy = new Option<double?>("--judge-accuracy") { Description = "Chance a judge sample is right (default: the refiner accuracy)" };
        var invalidRate = new Option<double>("--invalid-rate") { Description = "Chance a judge sample has no verdict (default 0)", DefaultValueFactory = _ => 0 };
        var n = new Option<int>("--n") { Description = "Number of simulated roots (negatives)", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of every draw", DefaultValueFactory = _ => 0 };
        var budget = new Option<int>("--budget") { Description = "Max expansions (refined children) per search", DefaultValueFactory = _ => 15 };
        var branch = new Option<int>("--branch") { Description = "Children per expanded node (BFS/DFS)", DefaultValueFactory = _ => 3 };
        var keep = new Option<int>("--keep") { Description = "Best children kept per level (BFS) / recursed into (DFS)", DefaultValueFactory = _ => 2 };
        var depth = new Option<int>("--depth") { Description = "Depth limit (BFS/DFS)", DefaultValueFactory = _ => 3 };
        var k = new Option<int>("--k") { Description = "Judge samples per vote", DefaultValueFactory = _ => 5 };
        var rejudges = new Option<int>("--tie-rejudges") { Description = "Re-judges of a tied vote before the child is discarded", DefaultValueFactory = _ => 3 };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);

        var command = new Command("simulate", "Run a refinement policy against a simulated refiner of accuracy P and report success and expansions.")
        {
            policy, accuracy, judgeAccuracy, invalidRate, n, seed, budget, branch, keep, depth, k, rejudges, format,
        };
        command.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            var kind = SearchSimulation.ParsePolicy(pr.GetValue(policy)!);
            var refiner = new SimulatedRefinerOptions(pr.GetValue(accuracy), pr.GetValue(judgeAccuracy), pr.GetValue(invalidRate)).Validated();
            var options = new TreeSearchOptions(pr.GetValue(branch), pr.GetValue(keep), pr.GetValue(depth), MaxExpansions: pr.GetValue(budget)).Validated();
            var voting = new VotingOptions(pr.GetValue(k), pr.GetValue(rejudges)).Validated();
            var summary = await SearchSimulation.RunAsync(kind, refiner, pr.GetValue(n), pr.GetValue(seed), options, voting, ct);
            if (pr.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, summary);
            }
            else
            {
                await stdout.WriteLineAsync(
                    $"{summary.Policy}: success {summary.SuccessRate:P1} (any winner {summary.WinnerRate:P1}), " +
                    $"expansions mean {summary.MeanExpansions:F2} max {summary.MaxExpansions}, " +
                    $"P={summary.RefinerAccuracy} judge={summary.JudgeAccuracy} n={summary.N} seed={summary.Seed}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
