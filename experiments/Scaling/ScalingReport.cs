using System.Text;
using ScottPlot;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;
using static SparOrleans.Experiments.Reporting.ReportFormat;

namespace SparOrleans.Experiments;

/// <param name="MoreHelps">
/// Figure 5's first claim: accuracy rises with the number of generations. Reproduced when, for both strategies, the
/// IFEval average at the largest budget is above that at one response (paired t across sampling seeds, p &lt; 0.05).
/// </param>
/// <param name="TreeSearchEndsAbove">Figure 5's second claim: tree-search refinement ends above best-of-N (paired t, p &lt; 0.05).</param>
public sealed record ScalingVerdict(bool MoreHelps, bool TreeSearchEndsAbove, string Summary);

/// <summary><c>spar experiment scaling</c>: Figure 5, held-out accuracy against responses generated per prompt.</summary>
public sealed class ScalingReport : IExperiment<ScalingResult>
{
    public const string ExperimentName = "scaling";

    public static ScalingReport Instance { get; } = new();

    public string Name => ExperimentName;

    private const string BestOfNRises = "Best-of-N: accuracy rises from one response to the largest budget";
    private const string TreeRises = "Tree search: accuracy rises from one response to the largest budget";
    private const string TreeAbove = "Tree-search refinement ends above best-of-N";

    public IReadOnlyList<Claim> Claims(ScalingResult result)
    {
        var bon = result.BestOfN.Points;
        var tree = result.TreeSearch.Points;
        return
        [
            Claim.AcrossSeeds(BestOfNRises, bon[^1].Average, bon[0].Average),
            Claim.AcrossSeeds(TreeRises, tree[^1].Average, tree[0].Average),
            Claim.AcrossSeeds(TreeAbove, tree[^1].Average, bon[^1].Average),
        ];
    }

    public static ScalingVerdict Verdict(ScalingResult result, IReadOnlyList<Claim> claims)
    {
        bool Holds(string statement) => claims.Single(c => c.Statement == statement).Holds;
        var bon = result.BestOfN.Points;
        var tree = result.TreeSearch.Points;
        var helps = Holds(BestOfNRises) && Holds(TreeRises);
        var above = Holds(TreeAbove);
        var summary = Inv($"accuracy rises with generations for both strategies: {Word(helps)} (IFEval average, 1 → {bon[^1].Generations} responses: best-of-N {Pct(bon[0].Average)} → {Pct(bon[^1].Average)}, tree search {Pct(tree[0].Average)} → {Pct(tree[^1].Average)}); ") +
            Inv($"tree-search refinement ends above best-of-N: {Word(above)}");
        return new ScalingVerdict(helps, above, summary);
    }

    /// <summary>What the ceiling says about the judge: how much of what the responses hold the kept answer reaches.</summary>
    public static string Reading(ScalingResult result)
    {
        var b = result.BestOfN.Points[^1];
        var sampled = result.BestOfN.Points[0].Average;
        var greedy = 100 * result.Greedy.Mean;
        // Greedy decoding is one deterministic figure: sampling stands apart from it only when the one-sample t test says so.
        var greedyPerSeed = sampled.PerSeed.Select(_ => result.Greedy.Mean).ToList();
        var versusGreedy = PairedTests.AcrossSeeds(sampled.PerSeed, greedyPerSeed).P < PairedTests.Alpha ? "above"
            : PairedTests.AcrossSeeds(greedyPerSeed, sampled.PerSeed).P < PairedTests.Alpha ? "below" : "level with";
        var judgeGap = b.Oracle.Mean > b.PromptStrict.Mean
            ? "the responses hold better answers than the judge picks"
            : "the judge picks as well as a perfect one would";
        return Inv($"At {b.Generations} responses a perfect judge would keep a following answer for {Pct(b.Oracle)}% of the prompts (best-of-N), ") +
            Inv($"the refiner's vote keeps one for {Pct(b.PromptStrict)}% (one sample: {Pct(result.BestOfN.Points[0].PromptStrict)}%): {judgeGap}. ") +
            Inv($"The tree search starts only when the vote fails the greedy answer, which it passed for {Pct(result.RootsJudgedFollowing)}% of the prompts, ") +
            Inv($"so it spent {result.TreeSearch.ResponsesPerPrompt.Mean:F2} responses per prompt on average. Sampling alone (best-of-N at one response, T 0.9) scores {versusGreedy} greedy decoding ({Pct(sampled)} vs {greedy:F1}; one-sided t test of the seeds against greedy at p < 0.05).");
    }

    public static string Table(ScalingResult result)
    {
        var o = result.Options;
        var text = new StringBuilder();
        text.AppendLine(Inv($"{result.Models}; {o.Prompts} held-out prompts, voting@{o.Votes}, BFS branch {o.BranchFactor} keep {o.KeepBest}; {o.Seeds} sampling seeds; {result.Seconds:F0} s. Greedy decoding: average {100 * result.Greedy.Mean:F1}."));
        text.AppendLine();
        text.AppendLine("| Responses | Best-of-N P(S) | Best-of-N I(S) | Best-of-N avg | Best-of-N ceiling | Tree search P(S) | Tree search I(S) | Tree search avg | Tree search ceiling |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (b, t) in result.BestOfN.Points.Zip(result.TreeSearch.Points))
        {
            text.AppendLine(Inv($"| {b.Generations} | {Pct(b.PromptStrict)} | {Pct(b.InstructionStrict)} | {Pct(b.Average)} | {Pct(b.Oracle)} | {Pct(t.PromptStrict)} | {Pct(t.InstructionStrict)} | {Pct(t.Average)} | {Pct(t.Oracle)} |"));
        }
        text.AppendLine();
        text.AppendLine(Inv($"Spent per prompt at the largest budget: best-of-N {result.BestOfN.ResponsesPerPrompt.Mean:F2} responses and {result.BestOfN.RefinerGenerationsPerPrompt.Mean:F1} refiner generations; tree search {result.TreeSearch.ResponsesPerPrompt.Mean:F2} responses and {result.TreeSearch.RefinerGenerationsPerPrompt.Mean:F1} refiner generations. The refiner's vote passed {Pct(result.RootsJudgedFollowing)}% of the greedy answers (no search)."));
        return text.ToString();
    }

    public ExperimentReport Report(ScalingResult result, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var verdict = Verdict(result, claims);
        var text = new StringBuilder();
        text.AppendLine("# Inference-time scaling (paper Figure 5)");
        text.AppendLine();
        text.AppendLine("Produced by `spar experiment scaling` (see docs/results.md). Best-of-N: N actor samples (T 0.9), each judged by the");
        text.AppendLine("refiner's vote, the highest vote share kept (earliest on a tie). Tree search: the greedy answer, judged by the same");
        text.AppendLine("vote; when the vote fails it, BFS tree-search refinement with the remaining budget, the highest-voted node kept.");
        text.AppendLine("Responses = answers and refinements generated per prompt (the paper's x axis); the answer at a smaller budget is");
        text.AppendLine("the one kept among the first responses of the same run (each generation's seed depends only on its place).");
        text.AppendLine("Ceiling = share of prompts where any of those responses follows every constraint: a perfect judge's score.");
        text.AppendLine("P(S)/I(S): prompt/instruction-level strict accuracy; avg: the mean of strict and loose at both levels, %.");
        text.AppendLine();
        text.Append(Table(result));
        text.AppendLine();
        AppendEnding(text, verdict.Summary, claims, Reading(result), "scaling.png");
        return new ExperimentReport(text.ToString(), new { result, verdict, claims }, [new("scaling.png", Plot(result))],
            Section(result, claims, place), Table(result), verdict.Summary, new { result, verdict, claims, output = place.Directory }, claims);
    }

    /// <summary>
    /// Prompt-level strict accuracy of the kept answer (solid) and the perfect-judge ceiling (dashed, the same metric)
    /// against responses, ±std error bars; tree search at one response is greedy decoding.
    /// </summary>
    private static byte[] Plot(ScalingResult result)
    {
        var plot = new Plot();
        plot.Title("Inference-time scaling (simulated Figure 5)");
        plot.XLabel("responses generated per prompt (tree search: 1 = the greedy answer)");
        plot.YLabel("held-out prompt-level strict accuracy (%)");
        foreach (var (curve, color) in new[] { (result.BestOfN, Colors.OrangeRed), (result.TreeSearch, Colors.SteelBlue) })
        {
            var xs = curve.Points.Select(p => (double)p.Generations).ToArray();
            foreach (var (values, label, dashed) in new[] { (curve.Points.Select(p => p.PromptStrict).ToList(), "kept by own judge", false), (curve.Points.Select(p => p.Oracle).ToList(), "ceiling (perfect judge)", true) })
            {
                var ys = values.Select(v => 100 * v.Mean).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.LegendText = $"{curve.Strategy}: {label}";
                line.Color = color;
                line.LinePattern = dashed ? LinePattern.Dashed : LinePattern.Solid;
                plot.Add.ErrorBar(xs, ys, values.Select(v => 100 * v.Std).ToArray()).Color = color;
            }
        }
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
    }

    private static string Section(ScalingResult result, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var relative = place.RelativeTable;
        var o = result.Options;
        var bon = result.BestOfN.Points;
        var tree = result.TreeSearch.Points;
        string Curve(IReadOnlyList<ScalingPoint> points) => string.Join(", ", points.Select(p => Inv($"{p.Generations}: {Pct(p.Average)}")));
        return $"""
            ## 6. Inference-time scaling (Figure 5)

            `spar experiment scaling --seeds {o.Seeds} --prompts {o.Prompts} --generations {o.MaxGenerations}` ({result.Seconds:F0} s with cached M_0/R_0), table: [{relative}]({relative}).
            - Paper (SPaR-8B-DPO-iter3 on IFEval): accuracy rises with the number of generations for both strategies, above greedy decoding; tree-search refinement grows more slowly but ends above best-of-N.
            - Ours ({result.Models}; held-out IFEval average, %, mean ± std over {o.Seeds} sampling seeds): greedy {Inv($"{100 * result.Greedy.Mean:F1}")}; best-of-N {Curve(bon)}; tree search {Curve(tree)}; perfect-judge ceiling at {o.MaxGenerations}: best-of-N {Pct(bon[^1].Oracle)}, tree search {Pct(tree[^1].Oracle)} (prompt level).
            {Lines(claims).TrimEnd('\n')}
            - {Reading(result)}

            """;
    }
}
