using System.CommandLine;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment judgment</c>: Tables 2 and 9, every refiner of one or more loop runs judging R_0's frozen
/// evaluation set greedily and R_0 and the final refiner by majority voting@1–9, against the verifiers; writes
/// <c>docs/results/judgment/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class JudgmentCommand
{
    public const string Name = JudgmentReport.ExperimentName;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new JudgmentOptions();
        var run = new Option<DirectoryInfo[]>("--run")
        {
            Description = "A finished run's folder (e.g. runs/run-1), its models/refiner-T judged; give it several times (or several folders) for the loop seeds of one experiment, e.g. the exp-spar-sN-HASH runs of `spar experiment baselines`, each then one seed; default: the bootstrap R_0 only",
            AllowMultipleArgumentsPerToken = true,
        };
        var seeds = new Option<int>("--seeds") { Description = $"Sampling seeds 1..S with one run or none (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds}); with several runs each run is a seed", DefaultValueFactory = _ => defaults.Seeds };
        var cases = new Option<int?>("--cases") { Description = "Judge only the first N cases of the frozen set (default: all of them)" };
        var teacherCases = new Option<int>("--teacher-cases") { Description = $"Teacher cases (half answers, half near misses) judged greedily and reported apart (default {defaults.TeacherCases}, even; 0: none)", DefaultValueFactory = _ => defaults.TeacherCases };
        var votes = new Option<int>("--max-votes") { Description = $"Largest vote, odd; every odd k up to it is measured (default {defaults.MaxVotes})", DefaultValueFactory = _ => defaults.MaxVotes };
        var (_, _, home, modelSeed) = ScalingCommand.ModelOptions();
        var (output, results) = Destinations(Name, "table.md, results.json and judgment.png");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Tables 2 and 9 on the frozen evaluation set of R_0 (judge_eval.json in every refiner folder: M_0's own
            answers to held-out prompts, labelled by the verifiers, the loop's distribution): every refiner of the
            runs judges it greedily (Table 2: accuracy, Yes-class F1, Yes rate, precision of Yes per iteration), R_0
            and the final refiner also by majority voting@1, 3, 5, 7, 9 (Table 9: the first k of 9 samples at T 0.7).
            The teacher cases are judged greedily and reported apart. Several --run folders (the loop seeds of one
            experiment, which share one R_0 and frozen set) are the seeds: mean ± std over runs, claims by paired t and
            sign-flip across runs and McNemar's exact test per run on the same cases, Holm over the report. With one
            run, or none (the bootstrap R_0), the sampling seeds are the seeds.
            Example: spar experiment judgment --run runs/exp-spar-s1-X --run runs/exp-spar-s2-Y ... --run runs/exp-spar-s5-Z
            """)
        {
            run, seeds, cases, teacherCases, votes, home, modelSeed, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var options = new JudgmentOptions(parse.GetValue(seeds), parse.GetValue(cases), parse.GetValue(teacherCases), parse.GetValue(votes)).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var simulator = SimulatorOptions.Default with { Seed = parse.GetValue(modelSeed) };
            IReadOnlyList<string>? runDirs = parse.GetValue(run) is { Length: > 0 } given ? [.. given.Select(d => d.FullName)] : null;
            JudgmentRecord record;
            if (parse.GetValue(fromResults) is { } file)
            {
                record = FromResults(file);
            }
            else
            {
                var (result, source) = await MeasureAsync(options, runDirs, SparHome.From(parse, home).BootstrapCacheDirectory, simulator, human.WriteLine, ct);
                record = new JudgmentRecord(result, source, runDirs);
            }
            return await Publish(JudgmentReport.Instance, record, dir, resultsPath, stdout, stderr, json);
        });
        return command;
    }

    /// <summary>
    /// An earlier results.json of this experiment. One written before the frozen set (teacher cases only, a different
    /// result) is refused: its figures answer another question and cannot be laid out as the frozen set's.
    /// </summary>
    private static JudgmentRecord FromResults(FileInfo file)
    {
        var earlier = ReadResults(file);
        if (earlier.TryGetProperty("result", out var part) && part.ValueKind == JsonValueKind.Object && part.TryGetProperty("refiners", out var old) && old.ValueKind == JsonValueKind.Array)
        {
            throw new UserInputException($"'{file.FullName}' was written by the judgment experiment before it judged R_0's frozen set (teacher cases only); measure again with --run.");
        }
        var result = ResultsPart<JudgmentResult>(earlier, "result", file);
        if (result.Seeds is not { Count: > 0 } || result.Cases is null || result.Options is null)
        {
            throw new UserInputException($"'{file.FullName}' has no judged seeds: is it this experiment's results.json?");
        }
        var runs = earlier.TryGetProperty("runs", out var r) && r.ValueKind == JsonValueKind.Array ? r.Deserialize<List<string>>(CliOutput.Json) : null;
        return new JudgmentRecord(result, ResultsPart<string>(earlier, "source", file), runs);
    }

    private static async Task<(JudgmentResult Result, string Source)> MeasureAsync(JudgmentOptions options, IReadOnlyList<string>? runDirs, string bootstrapCache,
        SimulatorOptions simulator, Action<string> log, CancellationToken ct)
    {
        if (runDirs is not null)
        {
            var runs = runDirs.Select(JudgmentExperiment.Run).ToList();
            if (runDirs.Distinct().Count() < runDirs.Count)
            {
                throw new UserInputException("The same --run folder is given twice: each run is one seed.");
            }
            var source = runs.Count == 1 ? $"the refiners of run {runs[0].Name}" : $"the refiners of {runs.Count} loop runs, {string.Join(", ", runs.Select(r => r.Name))}";
            return (await JudgmentExperiment.RunAsync(options, runs, simulator, log, ct), source);
        }
        var bootstrap = await ExperimentModels.ResolveAsync(null, null, bootstrapCache, simulator, log, ct);
        try
        {
            return (await JudgmentExperiment.RunAsync(options, [new JudgedRun("bootstrap", [bootstrap.Refiner])], simulator, log, ct), bootstrap.Source);
        }
        finally
        {
            ExperimentModels.Release(bootstrap);
        }
    }
}
