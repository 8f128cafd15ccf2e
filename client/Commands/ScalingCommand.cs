using System.CommandLine;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Experiments;
using SparOrleans.Core.Export;
using SparOrleans.Core.Options;
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
    public const string Name = "scaling";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new ScalingOptions();
        var seeds = new Option<int>("--seeds") { Description = $"Sampling seeds 1..S (default {defaults.Seeds})", DefaultValueFactory = _ => defaults.Seeds };
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
            Example: spar experiment scaling --seeds 3
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
                    SparHome.From(parse, home), simulator, human.WriteLine, ct);
                try
                {
                    result = await ScalingExperiment.RunAsync(options, models.Actor, models.Refiner, models.Source, simulator, human.WriteLine, ct);
                }
                finally
                {
                    ExperimentModels.Release(models);
                }
            }
            var verdict = Verdict(result);
            Write(result, verdict, dir);
            UpdateResults(resultsPath, Section(result, verdict, dir, resultsPath));
            return await Finish(stdout, json, new { result, verdict, output = dir }, Table(result), verdict.Summary, dir, resultsPath);
        });
        return command;
    }

    /// <summary>The options naming the models an experiment studies (shared by the experiments on trained models).</summary>
    public static (Option<DirectoryInfo?> Actor, Option<DirectoryInfo?> Refiner, Option<DirectoryInfo?> Home, Option<int> ModelSeed) ModelOptions() =>
        (new Option<DirectoryInfo?>("--actor") { Description = "Actor checkpoint (with --refiner; default: the bootstrap M_0 of `spar run`)" },
         new Option<DirectoryInfo?>("--refiner") { Description = "Refiner checkpoint (with --actor; default: the bootstrap R_0 of `spar run`)" },
         SparHome.Option(),
         new Option<int>("--model-seed") { Description = "Seed of the bootstrap M_0/R_0 used when no checkpoints are given (default 1, `spar run`'s)", DefaultValueFactory = _ => 1 });

    /// <param name="MoreHelps">
    /// Figure 5's first claim: accuracy rises with the number of generations. Reproduced when, for both strategies,
    /// the IFEval average at the largest budget is above that at one response beyond the seed noise
    /// (<see cref="ExperimentCommand.Beyond"/>).
    /// </param>
    /// <param name="TreeSearchEndsAbove">Figure 5's second claim: tree-search refinement ends above best-of-N (beyond the seed noise).</param>
    public sealed record ClaimVerdict(bool MoreHelps, bool TreeSearchEndsAbove, string Summary);

    public static ClaimVerdict Verdict(ScalingResult result)
    {
        static bool Rises(ScalingCurve curve) => Beyond(curve.Points[^1].Average, curve.Points[0].Average);
        var bon = result.BestOfN.Points;
        var tree = result.TreeSearch.Points;
        var helps = Rises(result.BestOfN) && Rises(result.TreeSearch);
        var above = Beyond(tree[^1].Average, bon[^1].Average);
        var summary = Inv($"accuracy rises with generations for both strategies: {(helps ? "reproduced" : "not reproduced")} (IFEval average, 1 → {bon[^1].Generations} responses: best-of-N {Pct(bon[0].Average)} → {Pct(bon[^1].Average)}, tree search {Pct(tree[0].Average)} → {Pct(tree[^1].Average)}); ") +
            Inv($"tree-search refinement ends above best-of-N: {(above ? "reproduced" : "not reproduced")}");
        return new ClaimVerdict(helps, above, summary);
    }

    /// <summary>What the ceiling says about the judge: how much of what the responses hold the kept answer reaches.</summary>
    public static string Reading(ScalingResult result)
    {
        var b = result.BestOfN.Points[^1];
        var sampled = result.BestOfN.Points[0].Average;
        var greedy = 100 * result.Greedy.Mean;
        // Greedy decoding is one deterministic figure, so a sampled mean stands apart from it only beyond its own spread.
        var versusGreedy = sampled.Mean - sampled.Std > result.Greedy.Mean ? "above" : sampled.Mean + sampled.Std < result.Greedy.Mean ? "below" : "level with";
        var judgeGap = b.Oracle.Mean > b.PromptStrict.Mean
            ? "the responses hold better answers than the judge picks"
            : "the judge picks as well as a perfect one would";
        return Inv($"At {b.Generations} responses a perfect judge would keep a following answer for {Pct(b.Oracle)}% of the prompts (best-of-N), ") +
            Inv($"the refiner's vote keeps one for {Pct(b.PromptStrict)}% (one sample: {Pct(result.BestOfN.Points[0].PromptStrict)}%): {judgeGap}. ") +
            Inv($"The tree search starts only when the vote fails the greedy answer, which it passed for {Pct(result.RootsJudgedFollowing)}% of the prompts, ") +
            Inv($"so it spent {result.TreeSearch.ResponsesPerPrompt.Mean:F2} responses per prompt on average. Sampling alone (best-of-N at one response, T 0.9) scores {versusGreedy} greedy decoding ({Pct(sampled)} vs {greedy:F1}).");
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

    private static void Write(ScalingResult result, ClaimVerdict verdict, string dir)
    {
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
        text.AppendLine(verdict.Summary + ".");
        text.AppendLine();
        text.AppendLine(Reading(result));
        text.AppendLine();
        text.AppendLine("![scaling](scaling.png)");
        WriteOutputs(dir, text.ToString(), new { result, verdict }, ("scaling.png", Plot(result)));
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

    private static string Section(ScalingResult result, ClaimVerdict verdict, string dir, string resultsPath)
    {
        var relative = Path.GetRelativePath(Path.GetDirectoryName(resultsPath)!, Path.Combine(dir, "table.md")).Replace('\\', '/');
        var o = result.Options;
        var bon = result.BestOfN.Points;
        var tree = result.TreeSearch.Points;
        string Curve(IReadOnlyList<ScalingPoint> points) => string.Join(", ", points.Select(p => Inv($"{p.Generations}: {Pct(p.Average)}")));
        return $"""
            ## 6. Inference-time scaling (Figure 5)

            `spar experiment scaling --seeds {o.Seeds} --prompts {o.Prompts} --generations {o.MaxGenerations}` ({result.Seconds:F0} s with cached M_0/R_0), table: [{relative}]({relative}).
            - Paper (SPaR-8B-DPO-iter3 on IFEval): accuracy rises with the number of generations for both strategies, above greedy decoding; tree-search refinement grows more slowly but ends above best-of-N.
            - Ours ({result.Models}; held-out IFEval average, %, mean ± std over {o.Seeds} sampling seeds): greedy {Inv($"{100 * result.Greedy.Mean:F1}")}; best-of-N {Curve(bon)}; tree search {Curve(tree)}; perfect-judge ceiling at {o.MaxGenerations}: best-of-N {Pct(bon[^1].Oracle)}, tree search {Pct(tree[^1].Oracle)} (prompt level).
            - Accuracy rises with the number of generations, for both strategies, beyond the seed noise: **{(verdict.MoreHelps ? "reproduced" : "not reproduced")}**.
            - Tree-search refinement ends above best-of-N, beyond the seed noise: **{(verdict.TreeSearchEndsAbove ? "reproduced" : "not reproduced")}**.
            - {Reading(result)}

            """;
    }
}
