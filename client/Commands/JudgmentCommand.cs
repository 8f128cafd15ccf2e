using System.CommandLine;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Experiments;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Model;
using SparOrleans.Core.Export;
using SparOrleans.Core.Options;
using SparOrleans.Core.Simulation;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Experiments;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment judgment</c>: Tables 2 and 9, the refiner's judgment per iteration of a run and by majority
/// voting@1–9, against the verifiers; writes <c>docs/results/judgment/</c> and its section of <c>docs/results.md</c>.
/// </summary>
public static class JudgmentCommand
{
    public const string Name = "judgment";

    /// <summary>The paper's LLMBar averages (Table 2, LLaMA3-8B): SPaR-8B-SFT, then RFT iterations 1–3; Acc/F1 %.</summary>
    public static IReadOnlyList<(double Accuracy, double F1)> PaperIterations { get; } = [(65.5, 57.3), (65.6, 58.3), (67.5, 61.2), (68.3, 63.1)];

    /// <summary>The paper's Table 9 (LLMBar Natural, Acc/F1 %): greedy, then voting@3, 5, 7, 9.</summary>
    public static IReadOnlyList<(double Accuracy, double F1)> PaperVoting { get; } = [(68.0, 60.7), (69.0, 60.8), (68.5, 60.9), (66.5, 58.8), (69.0, 61.2)];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new JudgmentOptions();
        var run = new Option<DirectoryInfo?>("--run") { Description = "A finished run's folder (e.g. runs/run-1): judge with each of its models/refiner-T, T = 0, 1, …; default: the bootstrap R_0 only" };
        var seeds = new Option<int>("--seeds") { Description = $"Sampling seeds 1..S (default {defaults.Seeds})", DefaultValueFactory = _ => defaults.Seeds };
        var cases = new Option<int>("--cases") { Description = $"Held-out judge cases, half following (default {defaults.Cases}, even)", DefaultValueFactory = _ => defaults.Cases };
        var votes = new Option<int>("--max-votes") { Description = $"Largest vote, odd; every odd k up to it is measured (default {defaults.MaxVotes})", DefaultValueFactory = _ => defaults.MaxVotes };
        var (_, _, home, modelSeed) = ScalingCommand.ModelOptions();
        var (output, results) = Destinations(Name, "table.md, results.json and judgment.png");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Tables 2 and 9: the refiner judges held-out teacher answers and near misses greedily and by majority
            voting@1, 3, 5, 7, 9, for every refiner of a finished run (iterations) or the bootstrap R_0; accuracy and F1
            against the verifiers, mean ± std over sampling seeds.
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
                (result, source) = await MeasureAsync(options, runDir, SparHome.From(parse, home), simulator, human.WriteLine, ct);
            }
            var verdict = Verdict(result);
            Write(result, verdict, source, runDir, dir);
            UpdateResults(resultsPath, Section(result, verdict, source, runDir, dir, resultsPath));
            return await Finish(stdout, json, new { result, verdict, source, output = dir }, Table(result), verdict.Summary, dir, resultsPath);
        });
        return command;
    }

    private static async Task<(JudgmentResult Result, string Source)> MeasureAsync(JudgmentOptions options, string? runDir, SparHome home,
        SimulatorOptions simulator, Action<string> log, CancellationToken ct)
    {
        if (runDir is not null)
        {
            var source = $"the refiners of run {Path.GetFileName(runDir.TrimEnd(Path.DirectorySeparatorChar))}";
            return (await JudgmentExperiment.RunAsync(options, RunRefiners(runDir), simulator, log, ct), source);
        }
        var bootstrap = await ExperimentModels.ResolveAsync(null, null, home, simulator, log, ct);
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

    /// <param name="IterationsImprove">Table 2: the last refiner judges more accurately (voting@5, the loop's vote) than refiner-0, beyond the seed noise; null with one refiner.</param>
    /// <param name="VotingBeatsGreedy">Table 9: the last refiner's largest vote is more accurate than its greedy judgment, beyond the seed noise.</param>
    /// <param name="VotingBeatsOneSample">Whether that gain is the vote's: the largest vote beats a single sampled judgment beyond the seed noise.</param>
    public sealed record ClaimVerdict(bool? IterationsImprove, bool VotingBeatsGreedy, bool VotingBeatsOneSample, string Summary);

    public static ClaimVerdict Verdict(JudgmentResult result)
    {
        var five = result.Options.LoopVoteIndex;
        var first = result.Refiners[0];
        var last = result.Refiners[^1];
        bool? improve = result.Refiners.Count > 1 ? Beyond(last.Votes[five].Accuracy, first.Votes[five].Accuracy) : null;
        var voting = Beyond(last.Votes[^1].Accuracy, last.Greedy.Accuracy);
        var overSample = Beyond(last.Votes[^1].Accuracy, last.Votes[0].Accuracy);
        var k = result.Options.VoteSizes[five];
        var summary = (improve is { } i
                ? Inv($"iterations improve judgment: {(i ? "reproduced" : "not reproduced")} (voting@{k} accuracy {first.Label} {Pct(first.Votes[five].Accuracy)} → {last.Label} {Pct(last.Votes[five].Accuracy)}); ")
                : "iterations improve judgment: not measured (one refiner; give --run); ") +
            Inv($"majority voting beats greedy: {(voting ? "reproduced" : "not reproduced")} ({last.Label}: greedy {100 * last.Greedy.Accuracy.Mean:F1}, voting@{result.Options.MaxVotes} {Pct(last.Votes[^1].Accuracy)}); ") +
            Inv($"the vote beats one sampled judgment: {(overSample ? "yes" : "no")} (one sample {Pct(last.Votes[0].Accuracy)})");
        return new ClaimVerdict(improve, voting, overSample, summary);
    }

    public static string Table(JudgmentResult result)
    {
        var o = result.Options;
        var text = new StringBuilder();
        text.AppendLine(Inv($"{o.Cases} held-out cases (half teacher answers, half teacher near misses); votes sampled at T {o.Temperature}; {o.Seeds} seeds; {result.Seconds:F0} s. Accuracy / F1 (Yes class), %; a tied or unparseable vote counts as wrong."));
        text.AppendLine();
        text.AppendLine("| Refiner | Greedy | " + string.Join(" | ", o.VoteSizes.Select(k => $"Voting@{k}")) + " | Invalid: greedy | Invalid: one sample |");
        text.AppendLine("|---|---:|" + string.Concat(o.VoteSizes.Select(_ => "---:|")) + "---:|---:|");
        foreach (var r in result.Refiners)
        {
            text.AppendLine(Inv($"| {r.Label} | {100 * r.Greedy.Accuracy.Mean:F1} / {100 * r.Greedy.F1.Mean:F1} | ") +
                string.Join(" | ", r.Votes.Select(v => $"{Pct(v.Accuracy)} / {Pct(v.F1)}")) + Inv($" | {100 * r.Greedy.Invalid.Mean:F1} | {Pct(r.Votes[0].Invalid)} |"));
        }
        return text.ToString();
    }

    /// <summary>Where the figures stand against chance: one sample's accuracy among the verdicts that parse.</summary>
    public static string Reading(JudgmentResult result) =>
        "Chance is 50% (the cases are balanced) and an unparseable verdict counts as wrong. One sample's accuracy among the verdicts that parse: " +
        string.Join(", ", result.Refiners.Select(r => Inv($"{r.Label} {Pct(SeedStat.Of(r.Votes[0].Accuracy.PerSeed.Zip(r.Votes[0].Invalid.PerSeed, (a, i) => i >= 1 ? 0 : a / (1 - i)).ToList()))}"))) +
        ". Judgments without a verdict, greedy / one sample: " +
        string.Join(", ", result.Refiners.Select(r => Inv($"{r.Label} {100 * r.Greedy.Invalid.Mean:F1}% / {100 * r.Votes[0].Invalid.Mean:F1}%"))) +
        ". " + InvalidReading(result);

    // Unparseable greedy verdicts count as wrong, so a greedy column can trail the votes for want of a verdict alone.
    private static string InvalidReading(JudgmentResult result)
    {
        var greedy = result.Refiners.Average(r => r.Greedy.Invalid.Mean);
        var sampled = result.Refiners.Average(r => r.Votes[0].Invalid.Mean);
        return greedy > sampled + 0.05
            ? "Greedy judgments lack a verdict more often than sampled ones, so where voting beats greedy it is mostly sampling that does, not the vote."
            : greedy + sampled < 0.02
                ? "Nearly every verdict parses, so the columns compare the judging itself."
                : "Greedy and sampled judgments lack a verdict about equally often, so the gap between the columns is the judging's, not the parsing's.";
    }

    private static void Write(JudgmentResult result, ClaimVerdict verdict, string source, string? runDir, string dir)
    {
        var text = new StringBuilder();
        text.AppendLine("# Judgment per iteration and majority voting (paper Tables 2 and 9)");
        text.AppendLine();
        text.AppendLine($"Produced by `spar experiment judgment` (see docs/results.md) with {source}. Every refiner judges the same");
        text.AppendLine("held-out cases: the teacher's answer to a prompt (follows) and a teacher near miss breaking one constraint (fails).");
        text.AppendLine("Voting@k: the majority of the first k of the samples drawn per case and seed.");
        text.AppendLine();
        text.Append(Table(result));
        text.AppendLine();
        text.AppendLine("Paper, LLMBar average (Table 2, LLaMA3-8B), Acc/F1: " +
            string.Join(", ", PaperIterations.Select((p, t) => Inv($"{(t == 0 ? "SFT" : $"iter{t}")} {p.Accuracy:F1}/{p.F1:F1}"))) + ".");
        text.AppendLine("Paper, LLMBar Natural (Table 9), Acc/F1: greedy " + Inv($"{PaperVoting[0].Accuracy:F1}/{PaperVoting[0].F1:F1}, ") +
            string.Join(", ", PaperVoting.Skip(1).Select((p, i) => Inv($"voting@{2 * i + 3} {p.Accuracy:F1}/{p.F1:F1}"))) + ".");
        text.AppendLine();
        text.AppendLine(verdict.Summary + ".");
        text.AppendLine();
        text.AppendLine(Reading(result));
        text.AppendLine();
        text.AppendLine("![judgment](judgment.png)");
        WriteOutputs(dir, text.ToString(), new { result, verdict, source, run = runDir }, ("judgment.png", Plot(result)));
    }

    /// <summary>Accuracy against the vote size, one line per refiner, greedy as a marker at k = 0; ±std error bars.</summary>
    private static byte[] Plot(JudgmentResult result)
    {
        var plot = new Plot();
        plot.Title("Judgment accuracy by majority voting (simulated Tables 2 and 9)");
        plot.XLabel("judge samples per vote (0 = greedy)");
        plot.YLabel("accuracy against the verifiers (%)");
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var (r, i) in result.Refiners.Select((r, i) => (r, i)))
        {
            var xs = new[] { 0.0 }.Concat(result.Options.VoteSizes.Select(k => (double)k)).ToArray();
            var ys = new[] { 100 * r.Greedy.Accuracy.Mean }.Concat(r.Votes.Select(v => 100 * v.Accuracy.Mean)).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = r.Label;
            line.Color = palette.GetColor(i);
            plot.Add.ErrorBar(xs, ys, new[] { 0.0 }.Concat(r.Votes.Select(v => 100 * v.Accuracy.Std)).ToArray()).Color = palette.GetColor(i);
        }
        var chance = plot.Add.HorizontalLine(50);
        chance.LegendText = "chance";
        chance.Color = Colors.Gray;
        chance.LinePattern = LinePattern.Dotted;
        plot.Axes.SetLimitsY(0, 100);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
    }

    private static string Section(JudgmentResult result, ClaimVerdict verdict, string source, string? runDir, string dir, string resultsPath)
    {
        var relative = Path.GetRelativePath(Path.GetDirectoryName(resultsPath)!, Path.Combine(dir, "table.md")).Replace('\\', '/');
        var o = result.Options;
        var five = o.LoopVoteIndex;
        var last = result.Refiners[^1];
        var perIteration = string.Join(", ", result.Refiners.Select(r => Inv($"{r.Label} {Pct(r.Votes[five].Accuracy)}/{Pct(r.Votes[five].F1)} (greedy {100 * r.Greedy.Accuracy.Mean:F1}/{100 * r.Greedy.F1.Mean:F1})")));
        var voting = string.Join(", ", last.Votes.Select((v, i) => Inv($"@{o.VoteSizes[i]} {Pct(v.Accuracy)}")));
        return $"""
            ## 5. Judgment per iteration and majority voting (Tables 2, 9)

            `spar experiment judgment{(runDir is null ? "" : " --run RUN")} --seeds {o.Seeds} --cases {o.Cases}` ({result.Seconds:F0} s{(runDir is null ? "" : ", RUN a finished `spar run`")}), table: [{relative}]({relative}).
            - Paper (LLMBar, Acc/F1, %): average over subsets SFT 65.5/57.3 → RFT-iter3 68.3/63.1 (Table 2); Natural subset greedy 68.0/60.7, voting@3–9 66.5–69.0 (Table 9).
            - Ours ({source}; held-out teacher cases against the verifiers, voting@{o.VoteSizes[five]} Acc/F1, %, mean ± std over {o.Seeds} sampling seeds): {perIteration}. Voting for {last.Label}: greedy {Inv($"{100 * last.Greedy.Accuracy.Mean:F1}")}, {voting}.
            - Iterations improve the refiner's judgment, beyond the seed noise: **{verdict.IterationsImprove switch { true => "reproduced", false => "not reproduced", null => "not measured" }}**.
            - Majority voting beats greedy judgment, beyond the seed noise: **{(verdict.VotingBeatsGreedy ? "reproduced" : "not reproduced")}**; the largest vote beats one sampled judgment beyond the noise: **{(verdict.VotingBeatsOneSample ? "yes" : "no")}**.
            - {Reading(result)}

            """;
    }
}
