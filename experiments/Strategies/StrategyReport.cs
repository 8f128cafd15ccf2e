using System.Text;
using ScottPlot;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;
using static SparOrleans.Experiments.Reporting.ReportFormat;

namespace SparOrleans.Experiments;

/// <summary>Whether the paper's two claims of Table 10 hold in our numbers (paired by seed: every strategy searches the same roots).</summary>
/// <param name="TreeSearchWins">Table 10's claim: BFS and DFS each beat greedy, best-of-N and iterative under the strong judge (all six tests hold).</param>
/// <param name="SelfEvaluationBias">Table 3's claim, seen in Table 10 too: for the tree searches the self-judge scores above the strong judge (both tests hold).</param>
public sealed record StrategyVerdict(bool TreeSearchWins, bool SelfEvaluationBias, string Summary);

/// <summary><c>spar experiment strategies</c>: Table 10 (greedy, best-of-N, iterative, BFS, DFS at equal budget).</summary>
public sealed class StrategyReport : IExperiment<StrategyExperimentResult>
{
    public const string ExperimentName = "strategies";

    public static StrategyReport Instance { get; } = new();

    public string Name => ExperimentName;

    /// <summary>Table 10 of the paper (SPaR-8B): Acc-GPT (GPT-4o judge) and Acc-SPAR (SPaR-8B-RFT-iter3 judge), in %.</summary>
    public static IReadOnlyDictionary<string, (double Gpt, double Spar)> Paper { get; } = new Dictionary<string, (double, double)>
    {
        ["greedy"] = (69.5, 65.0),
        ["best-of-n"] = (74.0, 80.0),
        ["iterative"] = (71.0, 82.0),
        ["bfs"] = (79.0, 90.5),
        ["dfs"] = (79.0, 90.0),
    };

    private static readonly string[] Trees = ["bfs", "dfs"];
    private static readonly string[] Others = ["greedy", "best-of-n", "iterative"];

    private static string WinsStatement(string tree, string other) => $"{Label(tree)} beats {Label(other)} (strong judge)";

    private static string BiasStatement(string tree) => $"{Label(tree)}: the self-judge (own vote) scores above the strong judge";

    public IReadOnlyList<Claim> Claims(StrategyExperimentResult result)
    {
        var by = result.Strategies.ToDictionary(s => s.Policy);
        return
        [
            .. Trees.SelectMany(t => Others.Select(o => Claim.AcrossSeeds(WinsStatement(t, o), by[t].StrongJudge, by[o].StrongJudge))),
            .. Trees.Select(t => Claim.AcrossSeeds(BiasStatement(t), by[t].SelfJudgeOwnVote, by[t].StrongJudge)),
        ];
    }

    public static StrategyVerdict Verdict(StrategyExperimentResult result, IReadOnlyList<Claim> claims)
    {
        var wins = Trees.All(t => Others.All(o => claims.Single(c => c.Statement == WinsStatement(t, o)).Holds));
        var bias = Trees.All(t => claims.Single(c => c.Statement == BiasStatement(t)).Holds);
        var ours = string.Join(" > ", result.Strategies.OrderByDescending(s => s.StrongJudge.Mean).Select(s => s.Policy));
        var summary = $"tree search beats greedy/best-of-N/iterative (paired t, p < 0.05 in all six): {Word(wins)} (ours, strong judge: {ours}); " +
            $"self-evaluation above strong judge for BFS/DFS: {Word(bias)}";
        return new StrategyVerdict(wins, bias, summary);
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

    public ExperimentReport Report(StrategyExperimentResult result, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var verdict = Verdict(result, claims);
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
        AppendEnding(table, verdict.Summary, claims, BudgetNote(result), "strategies.png");
        var paper = Paper.ToDictionary(kv => kv.Key, kv => new { acc_gpt = kv.Value.Gpt, acc_spar = kv.Value.Spar });
        return new ExperimentReport(table.ToString(), new { result, verdict, claims, paper }, [new("strategies.png", Plot(result))],
            Section(result, verdict, claims, place), Table(result), verdict.Summary, new { result, verdict, claims, output = place.Directory }, claims);
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

    private static string Section(StrategyExperimentResult result, StrategyVerdict verdict, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var relative = place.RelativeTable;
        var paper = string.Join(", ", result.Strategies.Select(s => Inv($"{Label(s.Policy)} {Paper[s.Policy].Gpt:F1}/{Paper[s.Policy].Spar:F1}")));
        var ours = string.Join(", ", result.Strategies.Select(s => Inv($"{Label(s.Policy)} {Pct(s.StrongJudge)}/{Pct(s.SelfJudgeOwnVote)}")));
        var o = result.Options;
        return $"""
            ## 4. Refinement strategies at equal budget (Table 10)

            `spar experiment strategies --n {o.N} --seeds {o.Seeds}` ({result.Seconds:F0} s), table: [{relative}]({relative}).
            - Paper (Acc-GPT/Acc-SPAR, %): {paper}.
            - Ours (strong judge/self judge, %, mean ± std over {o.Seeds} seeds): {ours}.
            - Tree search beats greedy, best-of-N and iterative (strong judge; all six paired tests below at p < 0.05): **{Word(verdict.TreeSearchWins)}**.
            - Self-evaluation scores BFS/DFS above the strong judge (Table 3's bias; both tests below): **{Word(verdict.SelfEvaluationBias)}**.
            {Lines(claims).TrimEnd('\n')}
            - {BudgetNote(result)}

            """;
    }

    public static string Label(string policy) => policy switch
    {
        "greedy" => "Greedy",
        "best-of-n" => "Best of N",
        "iterative" => "Iterative",
        "bfs" => "BFS",
        "dfs" => "DFS",
        _ => policy,
    };
}
