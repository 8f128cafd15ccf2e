using System.CommandLine;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Export;
using SparOrleans.Core.Options;
using SparOrleans.Core.Simulation;
using SparOrleans.Simulator.Experiments;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment pairs</c>: Figure 4's two synthetic tasks (character sequences, start/end stories), refinement
/// pairs against interfering pairs; writes <c>docs/results/pairs/</c> (table.md, results.json, one plot per task) and
/// its section of <c>docs/results.md</c>.
/// </summary>
public static class PairKindsCommand
{
    public const string Name = "pairs";

    public const string Letters = "letters", Story = "story", Both = "both";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new PairKindsOptions();
        var task = new Option<string>("--task") { Description = "letters, story or both (default both)", DefaultValueFactory = _ => Both };
        task.AcceptOnlyFromAmong(Letters, Story, Both);
        var seeds = new Option<int>("--seeds") { Description = $"Seeds 0..S-1 (default {defaults.Seeds})", DefaultValueFactory = _ => defaults.Seeds };
        var steps = new Option<int>("--steps") { Description = $"DPO steps per pair kind (default {defaults.DpoSteps})", DefaultValueFactory = _ => defaults.DpoSteps };
        var every = new Option<int>("--eval-every") { Description = $"Measure every this many DPO steps (default {defaults.EvalEvery})", DefaultValueFactory = _ => defaults.EvalEvery };
        var sft = new Option<int?>("--sft-steps") { Description = "SFT steps of the shared start (default: the task's, letters 200, story 800)" };
        var lr = new Option<double?>("--lr") { Description = "DPO learning rate (default: the task's, letters 3e-4, story 3e-5)" };
        var (output, results) = Destinations(Name, "table.md, results.json and one plot per task");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Figure 4: a tiny actor SFT'd on one synthetic task, then DPO on refinement pairs (only the key difference
            fixed) or interfering pairs (also an irrelevant factor changed) against the same negatives; held-out accuracy
            per step, mean ± std over seeds. Character sequences ("Write N letters x", interfering factor: uppercase)
            and start/end stories (interfering factor: the story told between the fixed first and last sentences).
            Example: spar experiment pairs --seeds 3
            """)
        {
            task, seeds, steps, every, sft, lr, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var options = (defaults with
            {
                Seeds = parse.GetValue(seeds), DpoSteps = parse.GetValue(steps), EvalEvery = parse.GetValue(every),
                SftSteps = parse.GetValue(sft), DpoLearningRate = parse.GetValue(lr),
            }).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var progress = new Progress<string>(line => human.WriteLine(line));
            var which = parse.GetValue(task)!;
            var runs = new List<PairKindsResult>();
            if (parse.GetValue(fromResults) is { } file)
            {
                runs.AddRange(ResultsPart<List<PairKindsResult>>(ReadResults(file), "results", file));
            }
            else
            {
                if (which is Letters or Both)
                {
                    runs.Add(await PairKindsExperiment.RunAsync(options, new LetterPairTask(options.MaxCount), progress, ct));
                }
                if (which is Story or Both)
                {
                    runs.Add(await PairKindsExperiment.RunAsync(options, new StoryPairTask(), progress, ct));
                }
            }
            var verdicts = runs.Select(Verdict).ToList();
            Write(runs, verdicts, dir);
            UpdateResults(resultsPath, Section(runs, verdicts, dir, resultsPath));
            return await Finish(stdout, json, new { results = runs, verdicts, output = dir },
                string.Concat(runs.Select(Table)), string.Join("\n", verdicts.Select(v => v.Summary)), dir, resultsPath);
        });
        return command;
    }

    /// <param name="Task">The task the verdict is about.</param>
    /// <param name="RefinementWins">Figure 4's claim: after training, refinement pairs reach a higher held-out accuracy than interfering pairs.</param>
    /// <param name="InterferenceLearned">Figure 4's side claim (character task): interfering pairs teach the irrelevant factor (uppercase share above half); null when the task has no factor measure.</param>
    /// <param name="InterferingBelowStart">Figure 4's story-task remark: interfering pairs end below the start model.</param>
    /// <param name="RefinementBelowStart">Whether refinement pairs end below the start too (then the fall is DPO's, not the pairs').</param>
    /// <remarks>Both kinds start from the same model per seed, so every comparison is paired by seed (<see cref="ExperimentCommand.BeyondPaired"/>).</remarks>
    public sealed record ClaimVerdict(string Task, bool RefinementWins, bool? InterferenceLearned, bool InterferingBelowStart, bool RefinementBelowStart, string Summary);

    public static ClaimVerdict Verdict(PairKindsResult result)
    {
        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        var wins = BeyondPaired(refinement.Accuracy[^1], interfering.Accuracy[^1]);
        bool? learned = result.FactorName is null ? null : interfering.Factor[^1].Mean > 0.5 && refinement.Factor[^1].Mean < 0.5;
        var below = BeyondPaired(interfering.Accuracy[0], interfering.Accuracy[^1]);
        var refinementBelow = BeyondPaired(refinement.Accuracy[0], refinement.Accuracy[^1]);
        var summary = Inv($"{result.Task}: refinement pairs beat interfering pairs on held-out accuracy after {refinement.Steps[^1]} steps: {(wins ? "reproduced" : "not reproduced")} ") +
            Inv($"({Pct(refinement.Accuracy[^1])} vs {Pct(interfering.Accuracy[^1])}, from {Pct(refinement.Accuracy[0])})") +
            (learned is { } l
                ? Inv($"; interfering pairs teach the {result.FactorName}: {(l ? "reproduced" : "not reproduced")} ({Pct(interfering.Factor[^1])} vs {Pct(refinement.Factor[^1])})")
                : Inv($"; interfering pairs end below the start: {(below ? "yes" : "no")}, refinement pairs too: {(refinementBelow ? "yes" : "no")}"));
        return new ClaimVerdict(result.Task, wins, learned, below, refinementBelow, summary);
    }

    /// <summary>Per checkpoint: accuracy (and the factor measure, when the task has one) of both kinds (mean ± std over seeds, %).</summary>
    public static string Table(PairKindsResult result)
    {
        var o = result.Options;
        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        var factor = result.FactorName is { } name ? Capitalized(name) : null;
        var text = new StringBuilder();
        text.AppendLine(result.Task == Story
            ? Inv($"Task story: 16 short sentences, stories of 4 sentences, {o.HeldOut} (start, end) combinations held out; ")
            : Inv($"Task letters: counts 1–{o.MaxCount} of a–z, {o.HeldOut} combinations held out; "));
        text.AppendLine(Inv($"start: d={o.HiddenSize}, {o.Layers} layers, {result.SftSteps} SFT steps; DPO lr {result.DpoLearningRate}, β 0.1, batch 16; {o.Seeds} seeds; {result.Seconds:F0} s."));
        text.AppendLine();
        text.AppendLine("| DPO step | Accuracy: refinement | Accuracy: interfering |" + (factor is null ? "" : $" {factor}: refinement | {factor}: interfering |"));
        text.AppendLine("|---:|---:|---:|" + (factor is null ? "" : "---:|---:|"));
        for (var i = 0; i < refinement.Steps.Count; i++)
        {
            text.AppendLine(Inv($"| {refinement.Steps[i]} | {Pct(refinement.Accuracy[i])} | {Pct(interfering.Accuracy[i])} |") +
                (factor is null ? "" : Inv($" {Pct(refinement.Factor[i])} | {Pct(interfering.Factor[i])} |")));
        }
        return text.ToString();
    }

    private static void Write(IReadOnlyList<PairKindsResult> runs, IReadOnlyList<ClaimVerdict> verdicts, string dir)
    {
        var table = new StringBuilder();
        table.AppendLine("# Refinement pairs vs interfering pairs (paper Figure 4)");
        table.AppendLine();
        table.AppendLine("Produced by `spar experiment pairs` (see docs/results.md). Both kinds share the start model and the negatives.");
        table.AppendLine("Letters: \"Write N letters x\", any case; negatives are lowercase, one or two letters off; refinement pairs choose the");
        table.AppendLine("lowercase answer with the right count, interfering pairs the right count in uppercase. Story: \"Write a story that");
        table.AppendLine("starts with S1 and ends with S2\"; negatives lack S1 or S2; refinement pairs put it back around the same two body");
        table.AppendLine("sentences, interfering pairs wrap S1 and S2 around another body. Accuracy: greedy held-out answers that follow.");
        foreach (var (result, verdict) in runs.Zip(verdicts))
        {
            table.AppendLine();
            table.AppendLine($"## {result.Task}");
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
                table.AppendLine($"| {Cell(r.Instruction)} | `{Cell(r.Answer)}` {(r.Follows ? "✓" : "✗")} | `{Cell(i.Answer)}` {(i.Follows ? "✓" : "✗")} |");
            }
            table.AppendLine();
            table.AppendLine(verdict.Summary + ".");
            table.AppendLine();
            table.AppendLine($"![{result.Task}]({result.Task}.png)");
        }
        WriteOutputs(dir, table.ToString(), new { results = runs, verdicts }, [.. runs.Select(r => ($"{r.Task}.png", Plot(r)))]);
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string Cell(string answer) => answer.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>Accuracy (solid) and the factor measure (dashed, when the task has one) against DPO steps, ±std as error bars.</summary>
    private static byte[] Plot(PairKindsResult result)
    {
        var plot = new Plot();
        plot.Title($"Refinement vs interfering pairs (simulated Figure 4, {result.Task})");
        plot.XLabel("DPO training steps");
        plot.YLabel("% of held-out answers");
        foreach (var (curve, color) in new[] { (result.Curve(PairKindsExperiment.Refinement), Colors.SteelBlue), (result.Curve(PairKindsExperiment.Interfering), Colors.OrangeRed) })
        {
            var xs = curve.Steps.Select(s => (double)s).ToArray();
            var series = new List<(IReadOnlyList<SeedStat> Values, string Label, bool Dashed)> { (curve.Accuracy, "accuracy", false) };
            if (result.FactorName is { } name)
            {
                series.Add((curve.Factor, name, true));
            }
            foreach (var (values, label, dashed) in series)
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

    private static string Section(IReadOnlyList<PairKindsResult> runs, IReadOnlyList<ClaimVerdict> verdicts, string dir, string resultsPath)
    {
        var relative = Path.GetRelativePath(Path.GetDirectoryName(resultsPath)!, Path.Combine(dir, "table.md")).Replace('\\', '/');
        var o = runs[0].Options;
        var lines = new StringBuilder();
        foreach (var (result, verdict) in runs.Zip(verdicts))
        {
            var refinement = result.Curve(PairKindsExperiment.Refinement);
            var interfering = result.Curve(PairKindsExperiment.Interfering);
            var task = Capitalized(result.Task);
            lines.AppendLine(Inv($"- Ours, {result.Task} (held-out accuracy, %, mean ± std over {o.Seeds} seeds): start {Pct(refinement.Accuracy[0])} (per seed {string.Join(", ", refinement.Accuracy[0].PerSeed.Select(v => Inv($"{100 * v:F0}")))}); after {o.DpoSteps} steps refinement {Pct(refinement.Accuracy[^1])}, interfering {Pct(interfering.Accuracy[^1])}") +
                (result.FactorName is { } name ? Inv($"; {name} refinement {Pct(refinement.Factor[^1])}, interfering {Pct(interfering.Factor[^1])}.") : "."));
            lines.AppendLine($"- {task}: refinement pairs beat interfering pairs, beyond the seed noise (paired by seed): **{(verdict.RefinementWins ? "reproduced" : "not reproduced")}**.");
            if (verdict.InterferenceLearned is { } learned)
            {
                lines.AppendLine($"- {task}: interfering pairs teach the irrelevant factor ({result.FactorName}): **{(learned ? "reproduced" : "not reproduced")}**.");
            }
            else
            {
                lines.AppendLine($"- {task}: interfering pairs end below the start model (the paper's remark on stories), beyond the seed noise: **{(verdict.InterferingBelowStart ? "reproduced" : "not reproduced")}**; refinement pairs end below it too: **{(verdict.RefinementBelowStart ? "yes" : "no")}**.");
            }
        }
        var seconds = runs.Sum(r => r.Seconds);
        var command = runs.Count == 2 ? "" : $" --task {runs[0].Task}";
        return $"""
            ## 1. Refinement vs interfering pairs (Figure 4)

            `spar experiment pairs{command} --seeds {o.Seeds} --steps {o.DpoSteps}` ({seconds:F0} s), table: [{relative}]({relative}).
            - Paper: on both synthetic tasks refinement pairs improve accuracy more than interfering pairs; on characters the interfering factor (uppercase) is learned quickly; on stories interfering pairs even fall below the start model.
            {lines.ToString().TrimEnd('\n')}
            - Why the character gap is wider than the paper's: with byte tokens the uppercase letters are tokens the start never wrote, so interfering pairs have to teach case and the letter's uppercase form at once, and DPO alone learns the first without the second (the table shows the trained models' answers).
            - Stories: plain DPO (no NLL term) at the task's learning rate 3e-5; at 3e-4 and 1e-4 both kinds fell from 86% to 43–51% within 160 steps (seed 0, one-seed probes with `--lr`), so at those rates DPO itself breaks the tiny story model, whichever the pair; the 2-layer d=64 start needs 800 SFT steps to copy the sentences at all (400 steps: 2.5%), and after 800 it still differs widely between seeds.

            """;
    }
}
