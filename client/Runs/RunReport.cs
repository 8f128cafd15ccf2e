using System.Globalization;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Core.Export;
using SparOrleans.Core.Text;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator;

namespace SparOrleans.Client.Runs;

/// <summary>
/// What <c>spar report</c> wrote: the Markdown file and its PNG plots (full paths); <see cref="Warning"/> says when
/// the plots could not get their text (no font installed).
/// </summary>
public sealed record ReportResult(string Markdown, IReadOnlyList<string> Plots, string? Warning);

/// <summary>
/// A stored run as a Markdown report with PNG plots (ScottPlot): the held-out figures per iteration, the DPO
/// training curves (from each actor's <c>training_metrics.jsonl</c>), the depths at which trees found winners and
/// how similar refinement pairs are. Reads the state directory only. A plot without data says "no data".
/// </summary>
public static class RunReport
{
    private const int Width = 800;
    private const int Height = 450;

    /// <param name="directory">Where report.md and the plots go (default: the run's output folder + <c>/report</c>).</param>
    public static async Task<ReportResult> WriteAsync(RunStore store, string runId, string? directory, CancellationToken cancellationToken)
    {
        var run = await store.GetAsync(runId, cancellationToken);
        var dir = Path.GetFullPath(directory ?? Path.Combine(run.Spec?.OutputDirectory ?? Path.Combine(Environment.CurrentDirectory, runId), "report"));
        var iterations = new List<IterationData>();
        for (var t = 1; t <= run.PromptIds.Count; t++)
        {
            var prompts = await store.GetPromptsAsync(run, t, cancellationToken);
            var outcomes = prompts.Where(p => p.State.Outcome is not null).Select(p => p.State.Outcome!).ToList();
            var pairs = IterationDatasets.DpoPairs(outcomes);
            // The paper's baseline: two independent samples of one prompt (its 0.85 vs 0.90 for refinement pairs).
            var independent = prompts.Where(p => p.State.Samples.Count >= 2).Select(p => (p.State.Samples[0], p.State.Samples[1])).ToList();
            iterations.Add(new IterationData(
                t,
                outcomes.Where(o => o.WinnerDepth is not null).Select(o => o.WinnerDepth!.Value).ToList(),
                pairs.Select(p => StringSimilarity.Ratio(p.Rejected, p.Chosen)).ToList(),
                independent.Count == 0 ? null : StringSimilarity.MeanRatio(independent),
                run.Spec is { } spec ? ReadMetrics(Path.Combine(new RunLayout(spec).Actor(t), IterationTraining.MetricsFile)) : []));
        }

        Directory.CreateDirectory(dir);
        var reports = run.Reports.OrderBy(r => r.Iteration).ToList();
        var plots = new List<(string File, string Title, string Caption, bool HasData)>
        {
            Save(dir, "actor_scores.png", ActorScores(reports), "Actor (held-out)",
                "IFEval-style accuracy of M_t on the held-out benchmark: prompt/instruction level, strict/loose."),
            Save(dir, "refiner_judgment.png", RefinerJudgment(reports), "Refiner judgment",
                "Accuracy and F1 of R_t's judgments against the verifiers."),
            Save(dir, "refinement_success.png", RefinementSuccess(reports), "Refinement success",
                "Share of searched prompts whose DPO pair's chosen response passes the verifiers."),
            Save(dir, "mean_expansions.png", MeanExpansions(reports), "Tree expansions",
                "Mean refinement children requested per searched prompt (the generation budget spent)."),
            Save(dir, "dpo_reward_margins.png", DpoCurves(iterations, "rewards/margins", "DPO rewards/margins"), "DPO reward margins",
                "rewards/margins per training step of the actor's DPO, one line per iteration."),
            Save(dir, "dpo_reward_accuracies.png", DpoCurves(iterations, "rewards/accuracies", "DPO rewards/accuracies"), "DPO reward accuracies",
                "rewards/accuracies per training step of the actor's DPO, one line per iteration."),
            Save(dir, "winner_depths.png", WinnerDepths(iterations), "Winner depths",
                "Depth in the refinement tree at which each winner was found (all iterations)."),
            Save(dir, "pair_similarity.png", PairSimilarity(iterations), "Refinement-pair similarity",
                "String similarity (difflib ratio) of each DPO pair's rejected and chosen response."),
        };
        var markdown = Path.Combine(dir, "report.md");
        AtomicFile.WriteText(markdown, writer => WriteMarkdown(writer, run, reports, iterations, plots));
        // Skia's Linux build without fontconfig reads fonts from /usr/share/fonts; with none, its default typeface is empty (no glyphs) and plots draw no text.
        var warning = SkiaSharp.SKTypeface.Default.GlyphCount == 0
            ? "no font found under /usr/share/fonts: the plots have no titles or labels (on Debian: apt-get install fonts-dejavu-core)"
            : null;
        return new ReportResult(markdown, plots.Select(p => Path.Combine(dir, p.File)).ToList(), warning);
    }

    /// <summary>A plot and whether it shows anything (an empty one says "no data", in the image and in report.md).</summary>
    private sealed record Chart(Plot Plot, bool HasData);

    private sealed record IterationData(
        int Iteration, IReadOnlyList<int> WinnerDepths, IReadOnlyList<double> PairSimilarities, double? IndependentSimilarity,
        IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics);

    private static void WriteMarkdown(TextWriter w, StoredRun run, IReadOnlyList<IterationReport> reports, IReadOnlyList<IterationData> iterations,
        IReadOnlyList<(string File, string Title, string Caption, bool HasData)> plots)
    {
        w.WriteLine($"# SPaR run {run.Id}");
        w.WriteLine();
        w.WriteLine($"Status **{run.Status.ToString().ToLowerInvariant()}** (phase {run.Phase}), created {run.Created:u}, updated {run.Updated:u}.");
        if (run.Spec is { } spec)
        {
            w.WriteLine($"Preset {spec.Preset}, seed {spec.Seed}, policy {spec.Policy}, {spec.Iterations} iterations x {spec.PromptsPerIteration} prompts, K = {spec.SamplesPerPrompt}.");
        }
        if (run.Error is not null)
        {
            w.WriteLine();
            w.WriteLine($"Error: {run.Error}");
        }
        w.WriteLine();
        w.WriteLine("## Iterations (held-out; iteration 0 is M_0/R_0)");
        w.WriteLine();
        if (reports.Count == 0)
        {
            w.WriteLine("No iteration has finished yet.");
        }
        else
        {
            w.WriteLine("| iter | P(S) | I(S) | P(L) | I(L) | judge acc | judge F1 | refine ok | mean exp | DPO pairs | RFT ex. | pair sim. | sample sim. | seconds |");
            w.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in reports)
            {
                var data = iterations.FirstOrDefault(i => i.Iteration == r.Iteration);
                w.WriteLine(string.Join(" | ",
                    $"| {r.Iteration}", RunSummary.Pct(r.ActorHeldout.PromptStrict), RunSummary.Pct(r.ActorHeldout.InstructionStrict), RunSummary.Pct(r.ActorHeldout.PromptLoose),
                    RunSummary.Pct(r.ActorHeldout.InstructionLoose), RunSummary.Pct(r.RefinerJudgment.Accuracy), RunSummary.Pct(r.RefinerJudgment.F1),
                    r.RefinementSuccess is { } s ? RunSummary.Pct(s) : "-", r.MeanExpansions is { } e ? Num(e, "F1") : "-",
                    r.DpoPairs.ToString(CultureInfo.InvariantCulture), r.RftExamples.ToString(CultureInfo.InvariantCulture),
                    data is { PairSimilarities.Count: > 0 } ? Num(data.PairSimilarities.Average(), "F3") : "-",
                    data?.IndependentSimilarity is { } sim ? Num(sim, "F3") : "-",
                    Num(r.Seconds, "F0")) + " |");
            }
            w.WriteLine();
            w.WriteLine("Scores in %. *pair sim.*: mean similarity of DPO pairs (rejected vs chosen); *sample sim.*: of two independent actor samples of one prompt.");
        }
        w.WriteLine();
        w.WriteLine("## Plots");
        foreach (var (file, title, caption, hasData) in plots)
        {
            w.WriteLine();
            w.WriteLine($"### {title}");
            w.WriteLine();
            w.WriteLine(hasData ? caption : $"{caption} *No data yet.*");
            w.WriteLine();
            w.WriteLine($"![{title}]({file})");
        }
    }

    private static Chart ActorScores(IReadOnlyList<IterationReport> reports) => Lines(
        "Actor held-out scores", "accuracy", reports, true,
        ("prompt strict", r => r.ActorHeldout.PromptStrict), ("instruction strict", r => r.ActorHeldout.InstructionStrict),
        ("prompt loose", r => r.ActorHeldout.PromptLoose), ("instruction loose", r => r.ActorHeldout.InstructionLoose));

    private static Chart RefinerJudgment(IReadOnlyList<IterationReport> reports) => Lines(
        "Refiner judgment vs verifiers", "score", reports, true, ("accuracy", r => r.RefinerJudgment.Accuracy), ("F1", r => r.RefinerJudgment.F1));

    private static Chart RefinementSuccess(IReadOnlyList<IterationReport> reports) => Lines(
        "Refinement success", "share of searched prompts", reports, true, ("refinement success", r => r.RefinementSuccess));

    private static Chart MeanExpansions(IReadOnlyList<IterationReport> reports) => Lines(
        "Mean tree expansions", "children per searched prompt", reports, false, ("mean expansions", r => r.MeanExpansions));

    /// <summary>One line per series over iterations; points without a value (e.g. no tree that iteration) are left out.</summary>
    private static Chart Lines(string title, string yLabel, IReadOnlyList<IterationReport> reports, bool unitRange,
        params (string Label, Func<IterationReport, double?> Value)[] series)
    {
        var plot = NewPlot(title, "iteration", yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

        var any = false;
        foreach (var (label, value) in series)
        {
            var points = reports.Select(r => (X: (double)r.Iteration, Y: value(r))).Where(p => p.Y is { } y && double.IsFinite(y)).ToList();
            if (points.Count == 0)
            {
                continue;
            }
            var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y!.Value).ToArray());
            scatter.LegendText = label;
            scatter.MarkerSize = 7;
            any = true;
        }
        if (any && unitRange)
        {
            plot.Axes.AutoScale();
            plot.Axes.SetLimitsY(-0.02, 1.02);
        }
        return any ? WithLegend(plot) : NoData(plot);
    }

    private static Chart DpoCurves(IReadOnlyList<IterationData> iterations, string metric, string title)
    {
        var plot = NewPlot(title, "training step", metric);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        var any = false;
        foreach (var data in iterations)
        {
            var points = data.Metrics
                .Where(m => m.ContainsKey("step") && m.TryGetValue(metric, out var v) && double.IsFinite(v))
                .Select(m => (X: m["step"], Y: m[metric])).ToList();
            if (points.Count == 0)
            {
                continue;
            }
            var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            scatter.LegendText = $"iteration {data.Iteration}";
            scatter.MarkerSize = points.Count > 50 ? 0 : 5;
            any = true;
        }
        return any ? WithLegend(plot) : NoData(plot);
    }

    private static Chart WinnerDepths(IReadOnlyList<IterationData> iterations)
    {
        var plot = NewPlot("Depth at which winners were found", "depth", "winners");
        var depths = iterations.SelectMany(i => i.WinnerDepths).ToList();
        if (depths.Count == 0)
        {
            return NoData(plot);
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        var counts = depths.GroupBy(d => d).OrderBy(g => g.Key).ToList();
        plot.Add.Bars(counts.Select(g => (double)g.Key).ToArray(), counts.Select(g => (double)g.Count()).ToArray());
        plot.Axes.Margins(bottom: 0);
        return new Chart(plot, true);
    }

    private static Chart PairSimilarity(IReadOnlyList<IterationData> iterations)
    {
        var plot = NewPlot("String similarity of refinement pairs", "similarity (rejected vs chosen)", "pairs");
        var ratios = iterations.SelectMany(i => i.PairSimilarities).ToList();
        if (ratios.Count == 0)
        {
            return NoData(plot);
        }
        const int bins = 20;
        var counts = new double[bins];
        foreach (var r in ratios)
        {
            counts[Math.Min(bins - 1, (int)(r * bins))]++;
        }
        var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(b => (b + 0.5) / bins).ToArray(), counts);
        foreach (var bar in bars.Bars)
        {
            bar.Size = 1.0 / bins;
        }
        plot.Axes.Margins(bottom: 0);
        return new Chart(plot, true);
    }

    /// <summary>The metric lines of a training_metrics.jsonl (nulls, i.e. non-finite values, left out); none when the file is missing.</summary>
    private static IReadOnlyList<IReadOnlyDictionary<string, double>> ReadMetrics(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        var rows = new List<IReadOnlyDictionary<string, double>>();
        foreach (var line in File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                rows.Add(doc.RootElement.EnumerateObject()
                    .Where(p => p.Value.ValueKind == JsonValueKind.Number)
                    .ToDictionary(p => p.Name, p => p.Value.GetDouble()));
            }
            catch (JsonException)
            {
                // A line cut short by a killed trainer: the steps before it still plot.
            }
        }
        return rows;
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static Chart WithLegend(Plot plot)
    {
        plot.ShowLegend(Alignment.UpperLeft);
        return new Chart(plot, true);
    }

    private static Chart NoData(Plot plot)
    {
        plot.Add.Annotation("no data", Alignment.MiddleCenter);
        return new Chart(plot, false);
    }

    private static (string File, string Title, string Caption, bool HasData) Save(string dir, string file, Chart chart, string title, string caption)
    {
        AtomicFile.WriteBytes(Path.Combine(dir, file), chart.Plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png));
        return (file, title, caption, chart.HasData);
    }

    private static string Num(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
