using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment judgment</c>: Tables 2 and 9, the refiner's judgment per iteration of a run and by majority
/// voting@1–9, against the verifiers; writes <c>docs/results/judgment/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class JudgmentCommand
{
    public const string Name = JudgmentReport.ExperimentName;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new JudgmentOptions();
        var run = new Option<DirectoryInfo?>("--run") { Description = "A finished run's folder (e.g. runs/run-1): judge with each of its models/refiner-T, T = 0, 1, …; default: the bootstrap R_0 only" };
        var seeds = new Option<int>("--seeds") { Description = $"Sampling seeds 1..S (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds})", DefaultValueFactory = _ => defaults.Seeds };
        var cases = new Option<int>("--cases") { Description = $"Held-out judge cases, half following (default {defaults.Cases}, even)", DefaultValueFactory = _ => defaults.Cases };
        var votes = new Option<int>("--max-votes") { Description = $"Largest vote, odd; every odd k up to it is measured (default {defaults.MaxVotes})", DefaultValueFactory = _ => defaults.MaxVotes };
        var (_, _, home, modelSeed) = ScalingCommand.ModelOptions();
        var (output, results) = Destinations(Name, "table.md, results.json and judgment.png");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Tables 2 and 9: the refiner judges held-out teacher answers and near misses greedily and by majority
            voting@1, 3, 5, 7, 9, for every refiner of a finished run (iterations) or the bootstrap R_0; accuracy and F1
            against the verifiers, mean ± std over sampling seeds; claims tested with paired t across seeds and
            McNemar's exact test on the greedy verdicts of the same cases.
            Example: spar experiment judgment --run runs/run-1
            """)
        {
            run, seeds, cases, votes, home, modelSeed, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var options = new JudgmentOptions(parse.GetValue(seeds), parse.GetValue(cases), parse.GetValue(votes)).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var simulator = SimulatorOptions.Default with { Seed = parse.GetValue(modelSeed) };
            var runDir = parse.GetValue(run)?.FullName;
            JudgmentResult result;
            string source;
            if (parse.GetValue(fromResults) is { } file)
            {
                var earlier = ReadResults(file);
                (result, source) = (ResultsPart<JudgmentResult>(earlier, "result", file), ResultsPart<string>(earlier, "source", file));
                runDir = earlier.TryGetProperty("run", out var r) ? r.GetString() : null;
            }
            else
            {
                (result, source) = await MeasureAsync(options, runDir, SparHome.From(parse, home).BootstrapCacheDirectory, simulator, human.WriteLine, ct);
            }
            return await Publish(JudgmentReport.Instance, new JudgmentRecord(result, source, runDir), dir, resultsPath, stdout, stderr, json);
        });
        return command;
    }

    private static async Task<(JudgmentResult Result, string Source)> MeasureAsync(JudgmentOptions options, string? runDir, string bootstrapCache,
        SimulatorOptions simulator, Action<string> log, CancellationToken ct)
    {
        if (runDir is not null)
        {
            var source = $"the refiners of run {Path.GetFileName(runDir.TrimEnd(Path.DirectorySeparatorChar))}";
            return (await JudgmentExperiment.RunAsync(options, RunRefiners(runDir), simulator, log, ct), source);
        }
        var bootstrap = await ExperimentModels.ResolveAsync(null, null, bootstrapCache, simulator, log, ct);
        try
        {
            return (await JudgmentExperiment.RunAsync(options, [("refiner-0", bootstrap.Refiner)], simulator, log, ct), bootstrap.Source);
        }
        finally
        {
            ExperimentModels.Release(bootstrap);
        }
    }

    /// <summary>The run's refiner checkpoints in iteration order; a clear error when the folder holds none.</summary>
    public static IReadOnlyList<(string Label, string Directory)> RunRefiners(string runDir)
    {
        var models = Path.Combine(runDir, "models");
        var found = Directory.Exists(models)
            ? Directory.GetDirectories(models, "refiner-*")
                .Select(d => (Dir: d, Ok: int.TryParse(Path.GetFileName(d)["refiner-".Length..], out var t), T: t))
                .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, ModelCheckpoint.ConfigFile)))
                .OrderBy(x => x.T)
                .Select(x => ($"refiner-{x.T}", x.Dir))
                .ToList()
            : [];
        return found.Count > 0
            ? found
            : throw new UserInputException($"'{runDir}' has no models/refiner-T checkpoints; give the folder of a run `spar run` finished (e.g. runs/run-1).");
    }
}
