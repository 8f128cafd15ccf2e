using System.CommandLine;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment NAME</c>: the paper's claims reproduced in the simulator, one subcommand per experiment; each
/// writes its table, JSON and plot into <c>docs/results/NAME/</c> and its section of <c>docs/results.md</c>. The
/// subcommands parse options and call the experiments library (experiments/), which measures, tests the claims and
/// renders the report; <see cref="Publish{TResult}"/> is their one common end.
/// </summary>
public static class ExperimentCommand
{
    public const string ResultsFile = ReportWriter.ResultsFile;

    /// <summary>The header of a new docs/results.md.</summary>
    public const string Header = ReportWriter.Header;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var experiment = new Command("experiment", "Reproduce one of the paper's claims in the simulator and write its results under docs/.");
        experiment.Subcommands.Add(PairKindsCommand.Create(stdout, stderr));
        experiment.Subcommands.Add(LoopExperimentCommand.Create(LoopReport.Baselines, stdout, stderr));
        experiment.Subcommands.Add(LoopExperimentCommand.Create(LoopReport.Ablations, stdout, stderr));
        experiment.Subcommands.Add(Strategies.Create(stdout, stderr));
        experiment.Subcommands.Add(JudgmentCommand.Create(stdout, stderr));
        experiment.Subcommands.Add(ScalingCommand.Create(stdout, stderr));
        return experiment;
    }

    /// <summary>
    /// The common end of every experiment: tests its claims, writes its folder and results.md section, warns on stderr
    /// when a claim rests on too few seeds, and prints the JSON payload or the table, the summary and where it wrote.
    /// </summary>
    public static async Task<int> Publish<TResult>(IExperiment<TResult> experiment, TResult result, string dir, string resultsPath,
        TextWriter stdout, TextWriter stderr, bool json)
    {
        var place = new ReportPlace(dir, resultsPath);
        var report = ReportWriter.Render(experiment, result, place);
        ReportWriter.Write(report, place, CliOutput.Json);
        if (Claims.UnderpoweredWarning(report.Claims) is { } warning)
        {
            await stderr.WriteLineAsync(warning);
        }
        if (json)
        {
            CliOutput.WriteJson(stdout, report.Payload);
        }
        else
        {
            await stdout.WriteAsync(report.Table);
            await stdout.WriteLineAsync(report.Summary);
            await stdout.WriteLineAsync($"wrote {dir} and {resultsPath}");
        }
        return ExitCodes.Success;
    }

    /// <summary>The <c>--output</c> folder (default docs/results/NAME) and <c>--results</c> summary file options of an experiment.</summary>
    public static (Option<DirectoryInfo> Output, Option<FileInfo> Results) Destinations(string name, string files) =>
        (new Option<DirectoryInfo>("--output")
        {
            Description = $"Folder for {files} (default docs/results/{name})",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("docs", "results", name)),
        },
        new Option<FileInfo>("--results")
        {
            Description = $"The results summary whose {name} section is (re)written (default docs/{ResultsFile})",
            DefaultValueFactory = _ => new FileInfo(Path.Combine("docs", ResultsFile)),
        });

    /// <summary>
    /// The <c>--output</c> folder and <c>--results</c> file as full paths, both checked writable before an experiment
    /// measures for minutes and then fails to keep what it measured.
    /// </summary>
    public static (string Dir, string ResultsPath) WritableDestinations(ParseResult parse, Option<DirectoryInfo> output, Option<FileInfo> results)
    {
        var dir = parse.GetValue(output)!.FullName;
        var resultsPath = parse.GetValue(results)!.FullName;
        OutputPaths.EnsureWritable(dir, "--output");
        OutputPaths.EnsureWritableFile(resultsPath, "--results");
        return (dir, resultsPath);
    }

    /// <summary><c>spar experiment strategies</c>: Table 10 (greedy, best-of-N, iterative, BFS, DFS at equal budget).</summary>
    public static class Strategies
    {
        public const string Name = StrategyReport.ExperimentName;

        public static Command Create(TextWriter stdout, TextWriter stderr)
        {
            var defaults = new StrategyExperimentOptions();
            var n = new Option<int>("--n") { Description = $"Simulated negatives per seed (default {defaults.N})", DefaultValueFactory = _ => defaults.N };
            var seeds = new Option<int>("--seeds") { Description = $"Seeds 0..S-1 (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds})", DefaultValueFactory = _ => defaults.Seeds };
            var accuracy = new Option<double>("--refiner-accuracy")
            {
                Description = $"Chance one refinement fixes a flawed response (default {defaults.RefinerAccuracy}: the paper's greedy 69.5%)",
                DefaultValueFactory = _ => defaults.RefinerAccuracy,
            };
            var judge = new Option<double>("--judge-accuracy")
            {
                Description = $"Chance one judge sample is right (default {defaults.JudgeAccuracy}: SPaR's LLMBar accuracy)",
                DefaultValueFactory = _ => defaults.JudgeAccuracy,
            };
            var budget = new Option<int>("--budget") { Description = $"Refinements per search, except greedy's 1 (default {defaults.Budget})", DefaultValueFactory = _ => defaults.Budget };
            var votes = new Option<int>("--votes") { Description = $"Judge samples per vote (default {defaults.Votes})", DefaultValueFactory = _ => defaults.Votes };
            var (output, results) = Destinations(Name, "table.md, results.json and strategies.png");
            var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
            var command = new Command(Name, """
                Table 10: greedy, best-of-N, iterative, BFS and DFS refinement at equal budget against the simulated
                refiner, judged by the verifiers (strong judge) and by the refiner itself; mean ± std over seeds, each
                claim a paired t test across seeds.
                Example: spar experiment strategies --n 200 --seeds 5
                """)
            {
                n, seeds, accuracy, judge, budget, votes, output, results, format,
            };
            command.SetAction(async (parse, ct) =>
            {
                var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
                var options = new StrategyExperimentOptions(parse.GetValue(n), parse.GetValue(seeds), parse.GetValue(accuracy),
                    parse.GetValue(judge), parse.GetValue(budget), parse.GetValue(votes)).Validated();
                var json = parse.GetValue(format) == OutputFormat.Json;
                var human = json ? stderr : stdout;
                var result = await StrategyExperiment.RunAsync(options, new Progress<string>(line => human.WriteLine(line)), ct);
                return await Publish(StrategyReport.Instance, result, dir, resultsPath, stdout, stderr, json);
            });
            return command;
        }
    }

    /// <summary>
    /// <c>--from-results FILE</c>: re-write an experiment's table, plots and section from the results.json an earlier
    /// run of it wrote, without measuring again (after a change to how results are presented).
    /// </summary>
    public static Option<FileInfo?> FromResultsOption() => new("--from-results")
    {
        Description = "Re-write the table, plots and section from an earlier results.json of this experiment instead of measuring",
    };

    /// <summary>The root of an earlier results.json; a clear error when it is missing or not JSON.</summary>
    public static JsonElement ReadResults(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new UserInputException($"'{file.FullName}' does not exist; give the results.json an earlier run of this experiment wrote.");
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file.FullName));
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw new UserInputException($"'{file.FullName}' is not an experiment's results.json: it holds a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"'{file.FullName}' is not JSON: {e.Message}");
        }
    }

    /// <summary>Property <paramref name="name"/> of an earlier results.json as <typeparamref name="T"/>; a clear error when it is not there.</summary>
    public static T ResultsPart<T>(JsonElement root, string name, FileInfo file)
    {
        try
        {
            return root.TryGetProperty(name, out var part) && part.Deserialize<T>(CliOutput.Json) is { } value
                ? value
                : throw new UserInputException($"'{file.FullName}' has no '{name}': is it this experiment's results.json?");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"'{file.FullName}' is not this experiment's results.json ({name}: {e.Message}).");
        }
    }
}
