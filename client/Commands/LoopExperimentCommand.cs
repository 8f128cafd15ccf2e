using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment baselines</c> (Table 1, Figure 3) and <c>spar experiment ablations</c> (Tables 4–5): real loop
/// runs of each variant over seeds from the same M_0/R_0 (<see cref="LoopExperiment"/>, reported by
/// <see cref="LoopReport"/>); writes <c>docs/results/NAME/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class LoopExperimentCommand
{
    public static Command Create(LoopReport definition, TextWriter stdout, TextWriter stderr)
    {
        var defaults = new LoopExperimentOptions(definition.Variants);
        var seeds = new Option<int>("--seeds") { Description = $"Loop seeds 1..S, all from the same M_0/R_0 (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds})", DefaultValueFactory = _ => defaults.Seeds };
        var iterations = new Option<int>("--iterations") { Description = $"Iterations per run (default {defaults.Iterations}; one round gets them all at once)", DefaultValueFactory = _ => defaults.Iterations };
        var prompts = new Option<int>("--prompts") { Description = $"Training prompts per iteration (default {defaults.Prompts})", DefaultValueFactory = _ => defaults.Prompts };
        var variants = new Option<string[]>("--variants")
        {
            Description = $"A subset of the variants (default all: {string.Join(", ", definition.Variants.Select(v => v.Name))})",
            AllowMultipleArgumentsPerToken = true,
        };
        var preset = new Option<string>("--preset") { Description = "default (spar run's model and bootstrap) or tiny (a smoke test of the machinery)", DefaultValueFactory = _ => "default" };
        preset.AcceptOnlyFromAmong("default", "tiny");
        var modelSeed = new Option<int>("--model-seed") { Description = "Seed of the shared M_0/R_0 (default 1, spar run's: its bootstrap cache is reused)", DefaultValueFactory = _ => 1 };
        var overlay = new Option<FileInfo>("--options")
        {
            Description = "A JSON file of simulator options laid over the preset in every run, as spar run's, e.g. {\"RftVotes\": \"Unanimous\"}: a lever measured over seeds",
        };
        var home = SparHome.Option();
        var (output, results) = Destinations(definition.Name, $"table.md, results.json and {definition.Name}.png");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(definition.Name, $"""
            {definition.Title}: a real loop run (grains, batched generation, TorchSharp training) per variant
            ({string.Join(", ", definition.Variants.Select(v => v.Label))}) and seed, all from the same M_0/R_0 and prompts;
            held-out IFEval accuracy per iteration, mean ± std over seeds, each claim a paired t test across seeds.
            Runs are kept in --home under names that encode their settings: a stopped experiment continues where it
            stopped, and SPaR's runs are shared by both experiments. At the defaults one run takes 1–2 minutes on a
            2-core CPU with the cached M_0/R_0 (see docs/results.md).
            Example: spar experiment {definition.Name} --seeds 5 --prompts 16
            """)
        {
            seeds, iterations, prompts, variants, preset, modelSeed, overlay, home, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var chosen = parse.GetValue(variants) is { Length: > 0 } names
                ? names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(n =>
                    definition.Variants.FirstOrDefault(v => v.Name == n)
                    ?? throw new UserInputException($"--variants: '{n}' is not a variant of {definition.Name}; use {string.Join(", ", definition.Variants.Select(v => v.Name))}.")).Distinct().ToList()
                : definition.Variants;
            var options = new LoopExperimentOptions(chosen, parse.GetValue(seeds), parse.GetValue(iterations), parse.GetValue(prompts),
                parse.GetValue(preset)!, parse.GetValue(modelSeed), OverlayText(parse.GetValue(overlay))).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            LoopExperimentResult result;
            if (parse.GetValue(fromResults) is { } file)
            {
                result = ResultsPart<LoopExperimentResult>(ReadResults(file), "result", file);
            }
            else
            {
                var paths = SparHome.From(parse, home);
                await human.WriteLineAsync($"{definition.Name}: {chosen.Count} variants × {options.Seeds} seeds, {options.Iterations} iterations × {options.Prompts} prompts; runs in {paths.Root}");
                await using var silo = await EmbeddedSilo.StartAsync(paths.StateDirectory, bootstrapCache: paths.BootstrapCacheDirectory, cancellationToken: ct);
                var interactive = !json && !Console.IsErrorRedirected && human == Console.Out;
                try
                {
                    result = await LoopExperiment.RunAsync(options, silo, paths.RunDirectory, human,
                        updates => Runs.RunProgressView.FollowAsync(updates, human, interactive, ct), ct);
                }
                catch (OperationCanceledException)
                {
                    await stderr.WriteLineAsync($"stopped; finished runs are kept. Run the same command again to continue.");
                    return ExitCodes.Cancelled;
                }
            }
            return await Publish(definition, result, dir, resultsPath, stdout, stderr, json);
        });
        return command;
    }

    /// <summary>The options file as compact JSON, checked against the simulator's options now rather than at the first run.</summary>
    private static string? OverlayText(FileInfo? file)
    {
        if (file is null)
        {
            return null;
        }
        var overlay = OptionsFile.Read(file.FullName);
        OptionsFile.Overlay(SimulatorOptions.Default, overlay, file.FullName).Validated();
        return overlay.ToJsonString();
    }
}
