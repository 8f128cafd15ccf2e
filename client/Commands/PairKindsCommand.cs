using System.CommandLine;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Export;
using SparOrleans.Core.Options;
using SparOrleans.Simulator.Experiments;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment pairs</c>: Figure 4's character-sequence task, refinement pairs against interfering pairs;
/// writes <c>docs/results/pairs/</c> (table.md, results.json, pairs.png) and its section of <c>docs/results.md</c>.
/// </summary>
public static class PairKindsCommand
{
    public const string Name = "pairs";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new PairKindsOptions();
        var seeds = new Option<int>("--seeds") { Description = $"Seeds 0..S-1 (default {defaults.Seeds})", DefaultValueFactory = _ => defaults.Seeds };
        var steps = new Option<int>("--steps") { Description = $"DPO steps per pair kind (default {defaults.DpoSteps})", DefaultValueFactory = _ => defaults.DpoSteps };
        var every = new Option<int>("--eval-every") { Description = $"Measure every this many DPO steps (default {defaults.EvalEvery})", DefaultValueFactory = _ => defaults.EvalEvery };
        var sft = new Option<int>("--sft-steps") { Description = $"SFT steps of the shared start (default {defaults.SftSteps})", DefaultValueFactory = _ => defaults.SftSteps };
        var lr = new Option<double>("--lr") { Description = $"DPO learning rate (default {defaults.DpoLearningRate})", DefaultValueFactory = _ => defaults.DpoLearningRate };
        var (output, results) = ExperimentCommand.Destinations(Name, "table.md, results.json and pairs.png");
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Figure 4 (character sequences): a tiny actor SFT'd on lowercase "Write N letters x" answers, then DPO on
            refinement pairs (lowercase, count fixed) or interfering pairs (correct answer in uppercase) against the
            same lowercase negatives; held-out accuracy and uppercase share per step, mean ± std over seeds.
            Example: spar experiment pairs --seeds 3
            """)
        {
            seeds, steps, every, sft, lr, output, results, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = (defaults with
            {
                Seeds = parse.GetValue(seeds), DpoSteps = parse.GetValue(steps), EvalEvery = parse.GetValue(every),
                SftSteps = parse.GetValue(sft), DpoLearningRate = parse.GetValue(lr),
            }).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var result = await PairKindsExperiment.RunAsync(options, new Progress<string>(line => human.WriteLine(line)), ct);
            var dir = parse.GetValue(output)!.FullName;
            var resultsPath = parse.GetValue(results)!.FullName;
            var verdict = Verdict(result);
            Write(result, verdict, dir);
            ExperimentCommand.UpdateResults(resultsPath, Section(result, verdict, dir, resultsPath));
            return await ExperimentCommand.Finish(stdout, json, new { result, verdict, output = dir }, Table(result), verdict.Summary, dir, resultsPath);
        });
        return command;
    }

    /// <param name="RefinementWins">Figure 4's claim: after training, refinement pairs reach a higher held-out accuracy than interfering pairs.</param>
    /// <param name="InterferenceLearned">Figure 4's side claim: interfering pairs teach the irrelevant factor (uppercase share above half).</param>
    public sealed record ClaimVerdict(bool RefinementWins, bool InterferenceLearned, string Summary);

    public static ClaimVerdict Verdict(PairKindsResult result)
    {
        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        var wins = refinement.Accuracy[^1].Mean > interfering.Accuracy[^1].Mean;
        var learned = interfering.UppercaseShare[^1].Mean > 0.5 && refinement.UppercaseShare[^1].Mean < 0.5;
        var summary = ExperimentCommand.Inv($"refinement pairs beat interfering pairs on held-out accuracy after {refinement.Steps[^1]} steps: {(wins ? "reproduced" : "not reproduced")} ") +
            ExperimentCommand.Inv($"({ExperimentCommand.Pct(refinement.Accuracy[^1])} vs {ExperimentCommand.Pct(interfering.Accuracy[^1])}, from {ExperimentCommand.Pct(refinement.Accuracy[0])}); ") +
            ExperimentCommand.Inv($"interfering pairs teach the uppercase factor: {(learned ? "reproduced" : "not reproduced")} (uppercase share {ExperimentCommand.Pct(interfering.UppercaseShare[^1])} vs {ExperimentCommand.Pct(refinement.UppercaseShare[^1])})");
        return new ClaimVerdict(wins, learned, summary);
    }

    /// <summary>Per checkpoint: accuracy and uppercase share of both kinds (mean ± std over seeds, %).</summary>
    public static string Table(PairKindsResult result)
    {
        var o = result.Options;
        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        var text = new StringBuilder();
        text.AppendLine(ExperimentCommand.Inv($"Counts 1–{o.MaxCount} of a–z, {o.HeldOut} combinations held out; start: d={o.HiddenSize}, {o.Layers} layers, {o.SftSteps} SFT steps; DPO lr {o.DpoLearningRate}, β 0.1, batch 16; {o.Seeds} seeds; {result.Seconds:F0} s."));
        text.AppendLine();
        text.AppendLine("| DPO step | Accuracy: refinement | Accuracy: interfering | Uppercase: refinement | Uppercase: interfering |");
        text.AppendLine("|---:|---:|---:|---:|---:|");
        for (var i = 0; i < refinement.Steps.Count; i++)
        {
            text.AppendLine(ExperimentCommand.Inv($"| {refinement.Steps[i]} | {ExperimentCommand.Pct(refinement.Accuracy[i])} | {ExperimentCommand.Pct(interfering.Accuracy[i])} | {ExperimentCommand.Pct(refinement.UppercaseShare[i])} | {ExperimentCommand.Pct(interfering.UppercaseShare[i])} |"));
        }
        return text.ToString();
    }

    private static void Write(PairKindsResult result, ClaimVerdict verdict, string dir)
    {
        var table = new StringBuilder();
        table.AppendLine("# Refinement pairs vs interfering pairs (paper Figure 4, character sequences)");
        table.AppendLine();
        table.AppendLine("Produced by `spar experiment pairs` (see docs/results.md). Task: \"Write N letters x\", any case. Both kinds share");
        table.AppendLine("the start model and the lowercase negatives (one or two letters off); refinement pairs choose the lowercase answer");
        table.AppendLine("with the right count, interfering pairs the right count in uppercase. Accuracy: greedy held-out answers with");
        table.AppendLine("exactly N copies of the letter in any case. Uppercase: share of uppercase letters in those answers.");
        table.AppendLine();
        table.Append(Table(result));
        table.AppendLine();
        table.AppendLine("Final greedy answers of seed 0 to the first held-out prompts (✓ = follows):");
        table.AppendLine();
        table.AppendLine("| Prompt | After refinement pairs | After interfering pairs |");
        table.AppendLine("|---|---|---|");
        var refinement = result.Curve(PairKindsExperiment.Refinement).Examples;
        var interfering = result.Curve(PairKindsExperiment.Interfering).Examples;
        foreach (var (r, i) in refinement.Zip(interfering))
        {
            table.AppendLine($"| {r.Instruction} | `{Cell(r.Answer)}` {(r.Follows ? "✓" : "✗")} | `{Cell(i.Answer)}` {(i.Follows ? "✓" : "✗")} |");
        }
        table.AppendLine();
        table.AppendLine(verdict.Summary + ".");
        table.AppendLine();
        table.AppendLine("![pairs](pairs.png)");
        AtomicFile.WriteText(Path.Combine(dir, "table.md"), w => w.Write(table.ToString()));
        AtomicFile.WriteText(Path.Combine(dir, "results.json"), w => w.WriteLine(
            JsonSerializer.Serialize(new { result, verdict }, new JsonSerializerOptions(CliOutput.Json) { WriteIndented = true })));
        AtomicFile.WriteBytes(Path.Combine(dir, "pairs.png"), Plot(result));
    }

    private static string Cell(string answer) => answer.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>Accuracy (solid) and uppercase share (dashed) against DPO steps, ±std as error bars.</summary>
    private static byte[] Plot(PairKindsResult result)
    {
        var plot = new Plot();
        plot.Title("Refinement vs interfering pairs (simulated Figure 4)");
        plot.XLabel("DPO training steps");
        plot.YLabel("% of held-out answers");
        foreach (var (curve, color) in new[] { (result.Curve(PairKindsExperiment.Refinement), Colors.SteelBlue), (result.Curve(PairKindsExperiment.Interfering), Colors.OrangeRed) })
        {
            var xs = curve.Steps.Select(s => (double)s).ToArray();
            foreach (var (values, label, dashed) in new[] { (curve.Accuracy, "accuracy", false), (curve.UppercaseShare, "uppercase share", true) })
            {
                var line = plot.Add.Scatter(xs, values.Select(v => 100 * v.Mean).ToArray());
                line.LegendText = $"{curve.Kind} pairs: {label}";
                line.Color = color;
                line.LinePattern = dashed ? LinePattern.Dashed : LinePattern.Solid;
                var errors = plot.Add.ErrorBar(xs, values.Select(v => 100 * v.Mean).ToArray(), values.Select(v => 100 * v.Std).ToArray());
                errors.Color = color;
            }
        }
        plot.Axes.SetLimitsY(-2, 118);
        plot.ShowLegend(Alignment.MiddleRight);
        return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
    }

    private static string Section(PairKindsResult result, ClaimVerdict verdict, string dir, string resultsPath)
    {
        var relative = Path.GetRelativePath(Path.GetDirectoryName(resultsPath)!, Path.Combine(dir, "table.md")).Replace('\\', '/');
        var o = result.Options;
        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        return $"""
            ## 1. Refinement vs interfering pairs (Figure 4)

            `spar experiment pairs --seeds {o.Seeds} --steps {o.DpoSteps}` ({result.Seconds:F0} s), table: [{relative}]({relative}).
            - Paper: refinement pairs improve the character task more than interfering pairs, which learn the uppercase factor quickly.
            - Ours (held-out accuracy, %, mean ± std over {o.Seeds} seeds): start {ExperimentCommand.Pct(refinement.Accuracy[0])}; after {o.DpoSteps} steps refinement {ExperimentCommand.Pct(refinement.Accuracy[^1])}, interfering {ExperimentCommand.Pct(interfering.Accuracy[^1])}; uppercase share refinement {ExperimentCommand.Pct(refinement.UppercaseShare[^1])}, interfering {ExperimentCommand.Pct(interfering.UppercaseShare[^1])}.
            - Refinement pairs beat interfering pairs: **{(verdict.RefinementWins ? "reproduced" : "not reproduced")}**.
            - Interfering pairs teach the irrelevant factor (uppercase): **{(verdict.InterferenceLearned ? "reproduced" : "not reproduced")}**.
            - Why the gap is wider than the paper's: with byte tokens the uppercase letters are tokens the start never wrote, so interfering pairs have to teach case and the letter's uppercase form at once, and DPO alone learns the first without the second (the table shows the trained models' answers). The story task of the figure is not built yet.

            """;
    }
}
