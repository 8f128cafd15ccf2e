using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Options;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment scaling</c>: Figure 5, held-out accuracy against responses generated per prompt for best-of-N
/// and tree-search refinement decoding with the bootstrap M_0/R_0 (or given checkpoints); writes
/// <c>docs/results/scaling/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class ScalingCommand
{
    public const string Name = ScalingReport.ExperimentName;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new ScalingOptions();
        var seeds = new Option<int>("--seeds") { Description = $"Sampling seeds 1..S (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds})", DefaultValueFactory = _ => defaults.Seeds };
        var prompts = new Option<int>("--prompts") { Description = $"Held-out prompts (default {defaults.Prompts})", DefaultValueFactory = _ => defaults.Prompts };
        var generations = new Option<int>("--generations") { Description = $"Most responses per prompt (default {defaults.MaxGenerations})", DefaultValueFactory = _ => defaults.MaxGenerations };
        var votes = new Option<int>("--votes") { Description = $"Judge samples per response, both strategies (default {defaults.Votes})", DefaultValueFactory = _ => defaults.Votes };
        var (actor, refiner, home, modelSeed) = ModelOptions();
        var (output, results) = Destinations(Name, "table.md, results.json and scaling.png");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Figure 5: held-out accuracy against the number of responses generated per prompt, for best-of-N decoding
            (keep the sample the refiner's vote rates highest) and tree-search refinement decoding (refine the greedy
            answer when the refiner's vote fails it, keep the best judged node); mean ± std over sampling seeds. Uses
            the bootstrap M_0/R_0 of `spar run` (trained into the bootstrap cache first if missing, about 11 minutes)
            unless --actor and --refiner name checkpoints.
            Example: spar experiment scaling --seeds 5
            """)
        {
            seeds, prompts, generations, votes, actor, refiner, home, modelSeed, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var options = new ScalingOptions(parse.GetValue(seeds), parse.GetValue(prompts), parse.GetValue(generations), parse.GetValue(votes)).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var simulator = SimulatorOptions.Default with { Seed = parse.GetValue(modelSeed) };
            ScalingResult result;
            if (parse.GetValue(fromResults) is { } file)
            {
                result = ResultsPart<ScalingResult>(ReadResults(file), "result", file);
            }
            else
            {
                var models = await ExperimentModels.ResolveAsync(parse.GetValue(actor)?.FullName, parse.GetValue(refiner)?.FullName,
                    SparHome.From(parse, home).BootstrapCacheDirectory, simulator, human.WriteLine, ct);
                try
                {
                    result = await ScalingExperiment.RunAsync(options, models.Actor, models.Refiner, models.Source, simulator, human.WriteLine, ct);
                }
                finally
                {
                    ExperimentModels.Release(models);
                }
            }
            return await Publish(ScalingReport.Instance, result, dir, resultsPath, stdout, stderr, json);
        });
        return command;
    }

    /// <summary>The options naming the models an experiment studies (shared by the experiments on trained models).</summary>
    public static (Option<DirectoryInfo?> Actor, Option<DirectoryInfo?> Refiner, Option<DirectoryInfo?> Home, Option<int> ModelSeed) ModelOptions() =>
        (new Option<DirectoryInfo?>("--actor") { Description = "Actor checkpoint (with --refiner; default: the bootstrap M_0 of `spar run`)" },
         new Option<DirectoryInfo?>("--refiner") { Description = "Refiner checkpoint (with --actor; default: the bootstrap R_0 of `spar run`)" },
         SparHome.Option(),
         new Option<int>("--model-seed") { Description = "Seed of the bootstrap M_0/R_0 used when no checkpoints are given (default 1, `spar run`'s)", DefaultValueFactory = _ => 1 });
}
