using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Core.Export;
using SparOrleans.Core.Simulation;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment NAME</c>: the paper's claims reproduced in the simulator, one subcommand per experiment; each
/// writes its table, JSON and plot into <c>docs/results/NAME/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class ExperimentCommand
{
    public const string ResultsFile = "results.md";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var experiment = new Command("experiment", "Reproduce one of the paper's claims in the simulator and write its results under docs/.");
        experiment.Subcommands.Add(PairKindsCommand.Create(stdout, stderr));
        experiment.Subcommands.Add(LoopExperimentCommand.Create(LoopExperimentCommand.Baselines, stdout, stderr));
        experiment.Subcommands.Add(LoopExperimentCommand.Create(LoopExperimentCommand.Ablations, stdout, stderr));
        experiment.Subcommands.Add(Strategies.Create(stdout, stderr));
        experiment.Subcommands.Add(JudgmentCommand.Create(stdout, stderr));
        experiment.Subcommands.Add(ScalingCommand.Create(stdout, stderr));
        return experiment;
    }

    /// <summary>Prints an experiment's outcome: the JSON payload, or the table, the claims' summary and where it wrote.</summary>
    public static async Task<int> Finish(TextWriter stdout, bool json, object payload, string table, string summary, string dir, string resultsPath)
    {
        if (json)
        {
            CliOutput.WriteJson(stdout, payload);
        }
        else
        {
            await stdout.WriteAsync(table);
            await stdout.WriteLineAsync(summary);
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
        public const string Name = "strategies";

        /// <summary>Table 10 of the paper (SPaR-8B): Acc-GPT (GPT-4o judge) and Acc-SPAR (SPaR-8B-RFT-iter3 judge), in %.</summary>
        public static IReadOnlyDictionary<string, (double Gpt, double Spar)> Paper { get; } = new Dictionary<string, (double, double)>
        {
            ["greedy"] = (69.5, 65.0),
            ["best-of-n"] = (74.0, 80.0),
            ["iterative"] = (71.0, 82.0),
            ["bfs"] = (79.0, 90.5),
            ["dfs"] = (79.0, 90.0),
        };

        public static Command Create(TextWriter stdout, TextWriter stderr)
        {
            var defaults = new StrategyExperimentOptions();
            var n = new Option<int>("--n") { Description = $"Simulated negatives per seed (default {defaults.N})", DefaultValueFactory = _ => defaults.N };
            var seeds = new Option<int>("--seeds") { Description = $"Seeds 0..S-1 (default {defaults.Seeds})", DefaultValueFactory = _ => defaults.Seeds };
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
                refiner, judged by the verifiers (strong judge) and by the refiner itself; mean ± std over seeds.
                Example: spar experiment strategies --n 200 --seeds 3
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
                var verdict = Verdict(result);
                Write(result, verdict, dir);
                UpdateResults(resultsPath, Section(result, verdict, dir, resultsPath));
                return await Finish(stdout, json, new { result, verdict, output = dir }, Table(result), verdict.Summary, dir, resultsPath);
            });
            return command;
        }

        /// <summary>Whether the paper's two claims hold in our numbers (means over seeds).</summary>
        /// <param name="TreeSearchWins">Table 10's claim: BFS and DFS each beat greedy, best-of-N and iterative under the strong judge.</param>
        /// <param name="SelfEvaluationBias">Table 3's claim, seen in Table 10 too: for the tree searches the self-judge scores above the strong judge.</param>
        public sealed record ClaimVerdict(bool TreeSearchWins, bool SelfEvaluationBias, string Summary);

        public static ClaimVerdict Verdict(StrategyExperimentResult result)
        {
            var strong = result.Strategies.ToDictionary(s => s.Policy, s => s.StrongJudge.Mean);
            var trees = new[] { "bfs", "dfs" };
            var others = new[] { "greedy", "best-of-n", "iterative" };
            var wins = trees.All(t => others.All(o => strong[t] > strong[o]));
            var bias = result.Strategies.Where(s => trees.Contains(s.Policy)).All(s => s.SelfJudgeOwnVote.Mean > s.StrongJudge.Mean);
            var ours = string.Join(" > ", result.Strategies.OrderByDescending(s => s.StrongJudge.Mean).Select(s => s.Policy));
            var summary = $"tree search beats greedy/best-of-N/iterative: {(wins ? "reproduced" : "not reproduced")} (ours, strong judge: {ours}); " +
                $"self-evaluation above strong judge for BFS/DFS: {(bias ? "reproduced" : "not reproduced")}";
            return new ClaimVerdict(wins, bias, summary);
        }

        /// <summary>
        /// Refinements actually spent per negative: every strategy shares the cap, but the searches stop at the first
        /// child their judge passes while best-of-N always spends the whole cap, so "equal budget" is equal only as a cap.
        /// The simulated refiner's refinements are independent draws (a fix with chance P whatever came before), so it has
        /// no negatives that need several building steps, which is where the paper credits tree search.
        /// </summary>
        public static string BudgetNote(StrategyExperimentResult result) =>
            "Refinements spent per negative (the cap is shared, the spend is not): " +
            string.Join(", ", result.Strategies.Select(s => Inv($"{Label(s.Policy)} {s.MeanExpansions.Mean:F2}"))) +
            ". The simulated refiner fixes each try independently with chance P, so it has no negatives that need several " +
            "building steps (where the paper credits tree search); best-of-N, which always spends the whole cap and keeps " +
            "the highest vote, is favoured by that.";

        /// <summary>The Markdown table: paper's Acc-GPT / Acc-SPAR beside ours (mean ± std over seeds, %).</summary>
        public static string Table(StrategyExperimentResult result)
        {
            var o = result.Options;
            var text = new StringBuilder();
            text.AppendLine(Inv($"Simulated refiner: refinement fixes with P = {o.RefinerAccuracy}, judge sample right with {o.JudgeAccuracy}, voting@{o.Votes}, budget {o.Budget} (greedy 1); {o.N} negatives × {o.Seeds} seeds; {result.Seconds:F1} s."));
            text.AppendLine();
            text.AppendLine("| Method | Paper Acc-GPT | Paper Acc-SPAR | Ours: strong judge | Ours: self (own vote) | Ours: self (fresh vote) | Refinements spent |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var s in result.Strategies)
            {
                var paper = Paper[s.Policy];
                text.AppendLine(Inv($"| {Label(s.Policy)} | {paper.Gpt:F1} | {paper.Spar:F1} | {Pct(s.StrongJudge)} | {Pct(s.SelfJudgeOwnVote)} | {Pct(s.SelfJudgeFreshVote)} | {s.MeanExpansions.Mean:F2} |"));
            }
            return text.ToString();
        }

        private static void Write(StrategyExperimentResult result, ClaimVerdict verdict, string dir)
        {
            var table = new StringBuilder();
            table.AppendLine("# Refinement strategies at equal budget (paper Table 10)");
            table.AppendLine();
            table.AppendLine("Produced by `spar experiment strategies` (see docs/results.md). Strong judge = the simulated truth (the paper's");
            table.AppendLine("GPT-4o); self (own vote) = the refiner's vote on its output during the search, a judge that repeats itself (the");
            table.AppendLine("paper's Acc-SPAR, where the same model judges what it selected); self (fresh vote) = an independent re-vote.");
            table.AppendLine("Output of a search: its winner, else its best judged refinement, else the unrefined negative.");
            table.AppendLine();
            table.Append(Table(result));
            table.AppendLine();
            table.AppendLine(verdict.Summary + ".");
            table.AppendLine();
            table.AppendLine(BudgetNote(result));
            table.AppendLine();
            table.AppendLine("![strategies](strategies.png)");
            var paper = Paper.ToDictionary(kv => kv.Key, kv => new { acc_gpt = kv.Value.Gpt, acc_spar = kv.Value.Spar });
            WriteOutputs(dir, table.ToString(), new { result, verdict, paper }, ("strategies.png", Plot(result)));
        }

        /// <summary>Grouped bars (strong judge, self judge) with ±std error bars, one group per strategy.</summary>
        private static byte[] Plot(StrategyExperimentResult result)
        {
            var plot = new Plot();
            plot.Title("Refinement strategies at equal budget (simulated Table 10)");
            plot.YLabel("success rate (%)");
            var series = new (string Label, Func<StrategyResult, SeedStat> Value)[]
            {
                ("strong judge (truth)", s => s.StrongJudge),
                ("self judge (own vote)", s => s.SelfJudgeOwnVote),
            };
            for (var k = 0; k < series.Length; k++)
            {
                var bars = result.Strategies.Select((s, i) => new Bar
                {
                    Position = i * 3 + k,
                    Value = 100 * series[k].Value(s).Mean,
                    Error = 100 * series[k].Value(s).Std,
                    FillColor = k == 0 ? Colors.SteelBlue : Colors.Orange,
                }).ToList();
                var added = plot.Add.Bars(bars);
                added.LegendText = series[k].Label;
            }
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                result.Strategies.Select((_, i) => i * 3 + 0.5).ToArray(), result.Strategies.Select(s => Label(s.Policy)).ToArray());
            plot.Axes.Margins(bottom: 0);
            plot.Axes.SetLimitsY(0, 118);
            plot.ShowLegend(Alignment.UpperLeft, Orientation.Horizontal);
            return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
        }

        private static string Section(StrategyExperimentResult result, ClaimVerdict verdict, string dir, string resultsPath)
        {
            var relative = Path.GetRelativePath(Path.GetDirectoryName(resultsPath)!, Path.Combine(dir, "table.md")).Replace('\\', '/');
            var paper = string.Join(", ", result.Strategies.Select(s => Inv($"{Label(s.Policy)} {Paper[s.Policy].Gpt:F1}/{Paper[s.Policy].Spar:F1}")));
            var ours = string.Join(", ", result.Strategies.Select(s => Inv($"{Label(s.Policy)} {Pct(s.StrongJudge)}/{Pct(s.SelfJudgeOwnVote)}")));
            var o = result.Options;
            return $"""
                ## 4. Refinement strategies at equal budget (Table 10)

                `spar experiment strategies --n {o.N} --seeds {o.Seeds}` ({result.Seconds:F0} s), table: [{relative}]({relative}).
                - Paper (Acc-GPT/Acc-SPAR, %): {paper}.
                - Ours (strong judge/self judge, %, mean ± std over {o.Seeds} seeds): {ours}.
                - Tree search beats greedy, best-of-N and iterative (strong judge): **{(verdict.TreeSearchWins ? "reproduced" : "not reproduced")}**.
                - Self-evaluation scores BFS/DFS above the strong judge (Table 3's bias): **{(verdict.SelfEvaluationBias ? "reproduced" : "not reproduced")}**.
                - {BudgetNote(result)}

                """;
        }

        private static string Label(string policy) => policy switch
        {
            "greedy" => "Greedy",
            "best-of-n" => "Best of N",
            "iterative" => "Iterative",
            "bfs" => "BFS",
            "dfs" => "DFS",
            _ => policy,
        };

    }

    /// <summary>
    /// Whether <paramref name="higher"/> is above <paramref name="lower"/> beyond the seed noise: the means differ by
    /// more than the larger of the two stds. A claim's direction counts as reproduced only then.
    /// </summary>
    public static bool Beyond(SeedStat higher, SeedStat lower) => higher.Mean - lower.Mean > Math.Max(higher.Std, lower.Std);

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

    /// <summary>An experiment's folder: <c>table.md</c>, <c>results.json</c> (indented, the CLI's JSON naming) and its plots.</summary>
    public static void WriteOutputs(string dir, string table, object results, params (string File, byte[] Png)[] plots)
    {
        foreach (var (file, png) in plots)
        {
            AtomicFile.WriteBytes(Path.Combine(dir, file), png);
        }
        AtomicFile.WriteText(Path.Combine(dir, "table.md"), w => w.Write(table));
        AtomicFile.WriteText(Path.Combine(dir, "results.json"), w => w.WriteLine(
            JsonSerializer.Serialize(results, new JsonSerializerOptions(CliOutput.Json) { WriteIndented = true })));
    }

    /// <summary>
    /// <see cref="Beyond"/> for two figures measured on the same seeds from a shared start (e.g. two pair kinds from
    /// one SFT'd model): the per-seed differences' mean is positive and larger than their std.
    /// </summary>
    public static bool BeyondPaired(SeedStat higher, SeedStat lower)
    {
        var differences = PairedDifference(higher, lower);
        return differences.Mean > 0 && differences.Mean > differences.Std;
    }

    /// <summary>The per-seed differences <paramref name="a"/> − <paramref name="b"/> of two figures measured on the same seeds, over seeds.</summary>
    public static SeedStat PairedDifference(SeedStat a, SeedStat b) => SeedStat.Of(a.PerSeed.Zip(b.PerSeed, (x, y) => x - y).ToList());

    /// <summary>A figure over seeds as "mean ± std" in percent.</summary>
    public static string Pct(SeedStat stat) => Inv($"{100 * stat.Mean:F1} ± {100 * stat.Std:F1}");

    /// <summary>
    /// Replaces the section that starts with the same "## " heading as <paramref name="section"/> in
    /// <paramref name="path"/> (up to the next "## "), or inserts it before the first section with a higher number
    /// ("## 4." after "## 1."), else at the end; creates the file with its header when missing.
    /// </summary>
    public static void UpdateResults(string path, string section)
    {
        var heading = section.Split('\n')[0].TrimEnd();
        var text = File.Exists(path) ? File.ReadAllText(path) : Header;
        var lines = text.Replace("\r\n", "\n").Split('\n').ToList();
        var start = lines.FindIndex(l => l.TrimEnd() == heading);
        if (start >= 0)
        {
            var end = lines.FindIndex(start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
            lines.RemoveRange(start, (end < 0 ? lines.Count : end) - start);
            lines.InsertRange(start, section.TrimEnd('\n').Split('\n').Append(""));
            text = string.Join("\n", lines);
        }
        else if (lines.FindIndex(l => SectionNumber(l) > SectionNumber(heading)) is var next && next >= 0 && SectionNumber(heading) > 0)
        {
            lines.InsertRange(next, section.TrimEnd('\n').Split('\n').Append(""));
            text = string.Join("\n", lines);
        }
        else
        {
            text = text.TrimEnd('\n') + "\n\n" + section.TrimEnd('\n') + "\n";
        }
        AtomicFile.WriteText(path, w => w.Write(text.TrimEnd('\n') + "\n"));
    }

    // "## 4. Refinement strategies" -> 4; 0 for a line that is not a numbered section heading.
    private static int SectionNumber(string line)
    {
        if (!line.StartsWith("## ", StringComparison.Ordinal))
        {
            return 0;
        }
        var dot = line.IndexOf('.', 3);
        return dot > 3 && int.TryParse(line.AsSpan(3, dot - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>The header of a new docs/results.md.</summary>
    public const string Header = """
        # Results: the paper's claims in the simulator

        One section per experiment of issue 8, each written by its `spar experiment NAME` command (re-running a
        command rewrites its section and its folder `docs/results/NAME/`). Every section states the paper's number,
        ours (mean ± std over ≥ 3 seeds) and whether the claim's direction reproduces, marked honestly
        **reproduced** or **not reproduced**. The simulator is a small world with verifiable constraints, so absolute
        numbers are not comparable with the paper's; directions and orderings are.

        """;

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
