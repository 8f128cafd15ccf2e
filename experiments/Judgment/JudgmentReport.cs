using System.Text;
using ScottPlot;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;
using static SparOrleans.Experiments.Reporting.ReportFormat;

namespace SparOrleans.Experiments;

/// <param name="IterationsImprove">Table 2: the last refiner judges more accurately (voting@5, the loop's vote) than refiner-0, paired t across sampling seeds at p &lt; 0.05; null with one refiner.</param>
/// <param name="VotingBeatsGreedy">Table 9: the last refiner's largest vote is more accurate than its greedy judgment (one-sample t of the seeds against the deterministic greedy figure).</param>
/// <param name="VotingBeatsOneSample">Whether that gain is the vote's: the largest vote beats a single sampled judgment (paired t across seeds).</param>
public sealed record JudgmentVerdict(bool? IterationsImprove, bool VotingBeatsGreedy, bool VotingBeatsOneSample, string Summary);

/// <summary>
/// A finished judgment experiment: the result, and what produced it (the refiners' source and, with <c>--run</c>, the
/// run's folder), which its report names.
/// </summary>
public sealed record JudgmentRecord(JudgmentResult Result, string Source, string? Run);

/// <summary><c>spar experiment judgment</c>: Tables 2 and 9, the refiner's judgment per iteration and by majority voting.</summary>
public sealed class JudgmentReport : IExperiment<JudgmentRecord>
{
    public const string ExperimentName = "judgment";

    public static JudgmentReport Instance { get; } = new();

    public string Name => ExperimentName;

    /// <summary>The paper's LLMBar averages (Table 2, LLaMA3-8B): SPaR-8B-SFT, then RFT iterations 1–3; Acc/F1 %.</summary>
    public static IReadOnlyList<(double Accuracy, double F1)> PaperIterations { get; } = [(65.5, 57.3), (65.6, 58.3), (67.5, 61.2), (68.3, 63.1)];

    /// <summary>The paper's Table 9 (LLMBar Natural, Acc/F1 %): greedy, then voting@3, 5, 7, 9.</summary>
    public static IReadOnlyList<(double Accuracy, double F1)> PaperVoting { get; } = [(68.0, 60.7), (69.0, 60.8), (68.5, 60.9), (66.5, 58.8), (69.0, 61.2)];

    private static string ImproveStatement(JudgmentOptions o) => $"Iterations improve the refiner's judgment (voting@{o.VoteSizes[o.LoopVoteIndex]}, across seeds)";
    private const string ImproveGreedyStatement = "Iterations improve the refiner's greedy judgment (same cases)";
    private const string VotingStatement = "Majority voting beats greedy judgment";
    private const string OverSampleStatement = "The largest vote beats one sampled judgment";

    public IReadOnlyList<Claim> Claims(JudgmentRecord record)
    {
        var result = record.Result;
        var five = result.Options.LoopVoteIndex;
        var first = result.Refiners[0];
        var last = result.Refiners[^1];
        var claims = new List<Claim>();
        if (result.Refiners.Count > 1)
        {
            claims.Add(Claim.AcrossSeeds(ImproveStatement(result.Options), last.Votes[five].Accuracy, first.Votes[five].Accuracy));
            if (first.GreedyCorrect is { } before && last.GreedyCorrect is { } after)
            {
                claims.Add(Claim.McNemar(ImproveGreedyStatement, after, before));
            }
        }
        claims.Add(Claim.AcrossSeeds(VotingStatement, last.Votes[^1].Accuracy, last.Greedy.Accuracy));
        claims.Add(Claim.AcrossSeeds(OverSampleStatement, last.Votes[^1].Accuracy, last.Votes[0].Accuracy));
        return claims;
    }

    public static JudgmentVerdict Verdict(JudgmentResult result, IReadOnlyList<Claim> claims)
    {
        bool Holds(string statement) => claims.Single(c => c.Statement == statement).Holds;
        var five = result.Options.LoopVoteIndex;
        var first = result.Refiners[0];
        var last = result.Refiners[^1];
        bool? improve = result.Refiners.Count > 1 ? Holds(ImproveStatement(result.Options)) : null;
        var voting = Holds(VotingStatement);
        var overSample = Holds(OverSampleStatement);
        var k = result.Options.VoteSizes[five];
        var summary = (improve is { } i
                ? Inv($"iterations improve judgment: {Word(i)} (voting@{k} accuracy {first.Label} {Pct(first.Votes[five].Accuracy)} → {last.Label} {Pct(last.Votes[five].Accuracy)}); ")
                : "iterations improve judgment: not measured (one refiner; give --run); ") +
            Inv($"majority voting beats greedy: {Word(voting)} ({last.Label}: greedy {100 * last.Greedy.Accuracy.Mean:F1}, voting@{result.Options.MaxVotes} {Pct(last.Votes[^1].Accuracy)}); ") +
            Inv($"the vote beats one sampled judgment: {(overSample ? "yes" : "no")} (one sample {Pct(last.Votes[0].Accuracy)})");
        return new JudgmentVerdict(improve, voting, overSample, summary);
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

    public ExperimentReport Report(JudgmentRecord record, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var (result, source, runDir) = record;
        var verdict = Verdict(result, claims);
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
        AppendEnding(text, verdict.Summary, claims, Reading(result), "judgment.png");
        return new ExperimentReport(text.ToString(), new { result, verdict, claims, source, run = runDir }, [new("judgment.png", Plot(result))],
            Section(record, claims, place), Table(result), verdict.Summary, new { result, verdict, claims, source, output = place.Directory }, claims);
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

    private static string Section(JudgmentRecord record, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var (result, source, runDir) = record;
        var relative = place.RelativeTable;
        var o = result.Options;
        var five = o.LoopVoteIndex;
        var last = result.Refiners[^1];
        var perIteration = string.Join(", ", result.Refiners.Select(r => Inv($"{r.Label} {Pct(r.Votes[five].Accuracy)}/{Pct(r.Votes[five].F1)} (greedy {100 * r.Greedy.Accuracy.Mean:F1}/{100 * r.Greedy.F1.Mean:F1})")));
        var voting = string.Join(", ", last.Votes.Select((v, i) => Inv($"@{o.VoteSizes[i]} {Pct(v.Accuracy)}")));
        var improve = result.Refiners.Count > 1 ? "" : "- Iterations improve the refiner's judgment: **not measured** (one refiner; give --run).\n";
        return $"""
            ## 5. Judgment per iteration and majority voting (Tables 2, 9)

            `spar experiment judgment{(runDir is null ? "" : " --run RUN")} --seeds {o.Seeds} --cases {o.Cases}` ({result.Seconds:F0} s{(runDir is null ? "" : ", RUN a finished `spar run`")}), table: [{relative}]({relative}).
            - Paper (LLMBar, Acc/F1, %): average over subsets SFT 65.5/57.3 → RFT-iter3 68.3/63.1 (Table 2); Natural subset greedy 68.0/60.7, voting@3–9 66.5–69.0 (Table 9).
            - Ours ({source}; held-out teacher cases against the verifiers, voting@{o.VoteSizes[five]} Acc/F1, %, mean ± std over {o.Seeds} sampling seeds): {perIteration}. Voting for {last.Label}: greedy {Inv($"{100 * last.Greedy.Accuracy.Mean:F1}")}, {voting}.
            {(improve + Lines(claims)).TrimEnd('\n')}
            - {Reading(result)}

            """;
    }
}
