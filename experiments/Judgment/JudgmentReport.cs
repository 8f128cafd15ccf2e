using System.Text;
using ScottPlot;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Models.Evaluation;
using static SparOrleans.Experiments.Reporting.ReportFormat;

namespace SparOrleans.Experiments;

/// <param name="IterationsImprove">Table 2: the final refiner judges the frozen set more accurately than R_0 (greedy across runs; with one run, voting@5 across sampling seeds); null with one refiner.</param>
/// <param name="VotingBeatsGreedy">Table 9: the final refiner's voting@5 is more accurate than its greedy judgment (paired t across seeds).</param>
/// <param name="VotingBeatsOneSample">Whether that is the vote's doing: the largest vote beats a single sampled judgment (paired t across seeds).</param>
public sealed record JudgmentVerdict(bool? IterationsImprove, bool VotingBeatsGreedy, bool VotingBeatsOneSample, string Summary);

/// <summary>
/// A finished judgment experiment: the result, and what produced it (the refiners' source and, with <c>--run</c>, the
/// runs' folders), which its report names.
/// </summary>
public sealed record JudgmentRecord(JudgmentResult Result, string Source, IReadOnlyList<string>? Runs);

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

    private const string PaperLine = "Paper (LLMBar, Acc/F1, %): average over subsets SFT 65.5/57.3 → RFT-iter3 68.3/63.1 (Table 2); Natural subset greedy 68.0/60.7, voting@3–9 66.5–69.0 (Table 9).";

    private static string Over(JudgmentResult r) => r.SeedsAreRuns ? "runs" : "sampling seeds";

    /// <summary>Table 2's claim across seeds: greedy across runs; with one run greedy is one figure, so voting@5 across sampling seeds.</summary>
    public static string ImproveStatement(JudgmentResult r) => r.SeedsAreRuns
        ? "The final refiner judges the frozen set more accurately than R_0 (greedy, across runs)"
        : $"The final refiner judges the frozen set more accurately than R_0 (voting@{r.Options.VoteSizes[r.Options.LoopVoteIndex]}, across sampling seeds)";

    /// <summary>McNemar of the final refiner's greedy verdicts against R_0's on the same cases: per run, or once with one run.</summary>
    public static string ImproveCasesStatement(string? run) => $"The final refiner judges more frozen cases right than R_0 (greedy, {run ?? "same cases"})";

    public static string VotingStatement(JudgmentResult r) => $"Voting@{r.Options.VoteSizes[r.Options.LoopVoteIndex]} beats greedy judgment (final refiner, across {Over(r)})";

    public static string VotingCasesStatement(JudgmentResult r, string seed) => $"Voting@{r.Options.VoteSizes[r.Options.LoopVoteIndex]} judges more frozen cases right than greedy (final refiner, {seed})";

    public static string OverSampleStatement(JudgmentResult r) => $"Voting@{r.Options.MaxVotes} beats one sampled judgment (final refiner, across {Over(r)})";

    public IReadOnlyList<Claim> Claims(JudgmentRecord record)
    {
        var r = record.Result;
        var five = r.Options.LoopVoteIndex;
        var claims = new List<Claim>();
        if (r.Refiners > 1)
        {
            if (r.SeedsAreRuns)
            {
                claims.Add(Claim.AcrossSeeds(ImproveStatement(r), Stat(r, s => s.Greedy[^1].Accuracy), Stat(r, s => s.Greedy[0].Accuracy)));
                claims.AddRange(r.Seeds.Select(s => Claim.McNemar(ImproveCasesStatement(s.Name), s.Greedy[^1].CorrectCases(), s.Greedy[0].CorrectCases())));
            }
            else
            {
                claims.Add(Claim.AcrossSeeds(ImproveStatement(r), Stat(r, s => s.FinalVotes[five].Accuracy), Stat(r, s => s.StartVotes[five].Accuracy)));
                var seed = r.Seeds[0];
                claims.Add(Claim.McNemar(ImproveCasesStatement(null), seed.Greedy[^1].CorrectCases(), seed.Greedy[0].CorrectCases()));
            }
        }
        claims.Add(Claim.AcrossSeeds(VotingStatement(r), Stat(r, s => s.FinalVotes[five].Accuracy), Stat(r, s => s.Greedy[^1].Accuracy)));
        claims.AddRange(r.Seeds.Select(s => Claim.McNemar(VotingCasesStatement(r, s.Name), s.FinalVotes[five].CorrectCases(), s.Greedy[^1].CorrectCases())));
        claims.Add(Claim.AcrossSeeds(OverSampleStatement(r), Stat(r, s => s.FinalVotes[^1].Accuracy), Stat(r, s => s.FinalVotes[0].Accuracy)));
        return claims;
    }

    public static JudgmentVerdict Verdict(JudgmentResult r, IReadOnlyList<Claim> claims)
    {
        bool Holds(string statement) => claims.Single(c => c.Statement == statement).Holds;
        var o = r.Options;
        var five = o.LoopVoteIndex;
        bool? improve = r.Refiners > 1 ? Holds(ImproveStatement(r)) : null;
        var voting = Holds(VotingStatement(r));
        var overSample = Holds(OverSampleStatement(r));
        var final = r.Label(r.Refiners - 1);
        var start = r.SeedsAreRuns
            ? Inv($"greedy accuracy refiner-0 {Fig(Stat(r, s => s.Greedy[0].Accuracy))} → {final} {Fig(Stat(r, s => s.Greedy[^1].Accuracy))}")
            : Inv($"voting@{o.VoteSizes[five]} accuracy refiner-0 {Fig(Stat(r, s => s.StartVotes[five].Accuracy))} → {final} {Fig(Stat(r, s => s.FinalVotes[five].Accuracy))}");
        var summary = (improve is { } i
                ? $"iterations improve judgment: {Word(i)} ({start}); "
                : "iterations improve judgment: not measured (one refiner; give --run); ") +
            Inv($"voting@{o.VoteSizes[five]} beats greedy: {Word(voting)} ({final}: greedy {Fig(Stat(r, s => s.Greedy[^1].Accuracy))}, voting@{o.VoteSizes[five]} {Fig(Stat(r, s => s.FinalVotes[five].Accuracy))}); ") +
            Inv($"voting@{o.MaxVotes} beats one sampled judgment: {(overSample ? "yes" : "no")} ({Fig(Stat(r, s => s.FinalVotes[^1].Accuracy))} vs {Fig(Stat(r, s => s.FinalVotes[0].Accuracy))})");
        return new JudgmentVerdict(improve, voting, overSample, summary);
    }

    /// <summary>A figure of every seed.</summary>
    private static SeedStat Stat(JudgmentResult r, Func<JudgmentSeed, double> figure) => SeedStat.Of([.. r.Seeds.Select(figure)]);

    /// <summary>"mean ± std" in percent, or one number where every seed has the same figure (a shared or greedy one).</summary>
    private static string Fig(SeedStat stat) =>
        stat.PerSeed.All(v => v == stat.PerSeed[0]) ? Inv($"{100 * stat.Mean:F1}") : Pct(stat);

    private static string Seeds(JudgmentResult r) => r.SeedsAreRuns
        ? $"{r.Seeds.Count} runs (loop seeds, one sampling seed each)"
        : $"{r.Seeds.Count} sampling seed{(r.Seeds.Count == 1 ? "" : "s")} of one {(r.Refiners > 1 ? "run" : "refiner")}";

    /// <summary>What was judged, in one sentence.</summary>
    public static string CasesLine(JudgmentResult r)
    {
        var c = r.Cases;
        var subset = c.Count == c.Total ? $"{c.Count}" : $"the first {c.Count} of {c.Total}";
        var teacher = c.TeacherCount > 0
            ? $"{c.TeacherCount} teacher cases (half teacher answers, half teacher near misses) judged greedily and reported apart"
            : "no teacher cases";
        return Inv($"R_0's frozen set, {subset} cases of M_0's own answers (sampled at T {c.SampleTemperature}) on held-out prompts, labelled by the verifiers, {100 * c.FollowingRate:F1}% following; every refiner judges the same cases; {teacher}");
    }

    public static string Table(JudgmentResult r)
    {
        var o = r.Options;
        var text = new StringBuilder();
        text.AppendLine($"Cases: {CasesLine(r)}. Seeds: {Seeds(r)}. Votes: the first k of {o.MaxVotes} samples per case at T {Inv($"{o.Temperature}")}. {Inv($"{r.Seconds:F0}")} s. Figures in %, mean ± std over the seeds (one number where every seed has the same); an unparseable verdict or a tied vote counts as wrong.");
        text.AppendLine();
        text.AppendLine($"Table 2: greedy judgment of the frozen set per iteration{(r.SeedsAreRuns ? " (refiner-0 is shared by the runs: judged once)" : "")}.");
        text.AppendLine();
        var teacher = r.Cases.TeacherCount > 0;
        text.AppendLine("| Refiner | Accuracy | F1 (Yes) | Yes rate | Precision of Yes | Invalid |" + (teacher ? " Teacher cases: Acc / F1 |" : ""));
        text.AppendLine("|---|---:|---:|---:|---:|---:|" + (teacher ? "---:|" : ""));
        for (var t = 0; t < r.Refiners; t++)
        {
            var g = (Func<JudgmentScore, double> f) => Fig(Stat(r, s => f(s.Greedy[t])));
            text.AppendLine($"| {r.Label(t)} | {g(x => x.Accuracy)} | {g(x => x.F1)} | {g(x => x.YesRate)} | {g(x => x.Precision)} | {g(x => (double)x.Invalid / x.Cases)} |" +
                (teacher ? $" {Fig(Stat(r, s => s.Teacher[t].Accuracy))} / {Fig(Stat(r, s => s.Teacher[t].F1))} |" : ""));
        }
        text.AppendLine();
        text.AppendLine("Table 9: majority voting@k on the frozen set, accuracy / F1.");
        text.AppendLine();
        text.AppendLine("| Refiner | Greedy | " + string.Join(" | ", o.VoteSizes.Select(k => $"Voting@{k}")) + " | Yes rate: voting@" + o.VoteSizes[o.LoopVoteIndex] + " | Invalid: one sample |");
        text.AppendLine("|---|---:|" + string.Concat(o.VoteSizes.Select(_ => "---:|")) + "---:|---:|");
        foreach (var (t, votes) in VotedRefiners(r))
        {
            text.AppendLine($"| {r.Label(t)} | {Fig(Stat(r, s => s.Greedy[t].Accuracy))} / {Fig(Stat(r, s => s.Greedy[t].F1))} | " +
                string.Join(" | ", o.VoteSizes.Select((_, v) => $"{Fig(Stat(r, s => votes(s)[v].Accuracy))} / {Fig(Stat(r, s => votes(s)[v].F1))}")) +
                $" | {Fig(Stat(r, s => votes(s)[o.LoopVoteIndex].YesRate))} | {Fig(Stat(r, s => (double)votes(s)[0].Invalid / votes(s)[0].Cases))} |");
        }
        return text.ToString();
    }

    /// <summary>The refiners that vote: R_0 and the final one (R_0 alone with one refiner).</summary>
    private static IReadOnlyList<(int Iteration, Func<JudgmentSeed, IReadOnlyList<JudgmentScore>> Votes)> VotedRefiners(JudgmentResult r) =>
        r.Refiners > 1 ? [(0, s => s.StartVotes), (r.Refiners - 1, s => s.FinalVotes)] : [(0, s => s.StartVotes)];

    /// <summary>Where the figures stand: the trivial judges on these unbalanced cases, the worth of a Yes, and the verdicts that do not parse.</summary>
    public static string Reading(JudgmentResult r)
    {
        var following = r.Cases.FollowingRate;
        var alwaysYesF1 = following == 0 ? 0 : 2 * following / (1 + following);
        var text = Inv($"The frozen set is not balanced: a judge that always says No scores {100 * (1 - following):F1}% (F1 0), one that always says Yes {100 * following:F1}% (F1 {100 * alwaysYesF1:F1}); a Yes is worth more than the base rate where its precision is above {100 * following:F1}%: ") +
            string.Join(", ", Enumerable.Range(0, r.Refiners).Select(t => Inv($"{r.Label(t)} {Fig(Stat(r, s => s.Greedy[t].Precision))}"))) +
            " (greedy). Judgments without a verdict, greedy / one sample: " +
            string.Join(", ", VotedRefiners(r).Select(v => Inv($"{r.Label(v.Iteration)} {Fig(Stat(r, s => (double)s.Greedy[v.Iteration].Invalid / s.Greedy[v.Iteration].Cases))}% / {Fig(Stat(r, s => (double)v.Votes(s)[0].Invalid / v.Votes(s)[0].Cases))}%"))) +
            ". " + InvalidReading(r);
        return text;
    }

    // Unparseable greedy verdicts count as wrong, so a greedy column can trail the votes for want of a verdict alone.
    private static string InvalidReading(JudgmentResult r)
    {
        var voted = VotedRefiners(r);
        var greedy = voted.Average(v => r.Seeds.Average(s => (double)s.Greedy[v.Iteration].Invalid / s.Greedy[v.Iteration].Cases));
        var sampled = voted.Average(v => r.Seeds.Average(s => (double)v.Votes(s)[0].Invalid / v.Votes(s)[0].Cases));
        return greedy > sampled + 0.05
            ? "Greedy judgments lack a verdict more often than sampled ones, so where voting beats greedy it is mostly sampling that does, not the vote."
            : greedy + sampled < 0.02
                ? "Nearly every verdict parses, so the columns compare the judging itself."
                : "Greedy and sampled judgments lack a verdict about equally often, so the gap between the columns is the judging's, not the parsing's.";
    }

    /// <summary>The command that measured <paramref name="record"/>, runs by folder name.</summary>
    public static string Command(JudgmentRecord record)
    {
        var (r, _, runs) = record;
        var o = r.Options;
        var defaults = new JudgmentOptions();
        var text = new StringBuilder("spar experiment judgment");
        foreach (var run in runs ?? [])
        {
            text.Append($" --run {Path.GetFileName(Path.TrimEndingDirectorySeparator(run))}");
        }
        if (!r.SeedsAreRuns)
        {
            text.Append($" --seeds {o.Seeds}");
        }
        text.Append(o.Cases is { } n ? $" --cases {n}" : "");
        text.Append(o.TeacherCases != defaults.TeacherCases ? $" --teacher-cases {o.TeacherCases}" : "");
        text.Append(o.MaxVotes != defaults.MaxVotes ? $" --max-votes {o.MaxVotes}" : "");
        return text.ToString();
    }

    public ExperimentReport Report(JudgmentRecord record, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var (result, source, runs) = record;
        var verdict = Verdict(result, claims);
        var text = new StringBuilder();
        text.AppendLine("# Judgment per iteration and majority voting (paper Tables 2 and 9)");
        text.AppendLine();
        text.AppendLine($"Produced by `{Command(record)}` (see docs/results.md) with {source}. Every refiner judges the same");
        text.AppendLine("frozen evaluation set, the loop's distribution: M_0's own answers to held-out prompts, stored with R_0 when it was");
        text.AppendLine("bootstrapped. Voting@k: the majority of the first k of the samples drawn per case and seed.");
        text.AppendLine();
        text.Append(Table(result));
        text.AppendLine();
        text.AppendLine("Paper, LLMBar average (Table 2, LLaMA3-8B), Acc/F1: " +
            string.Join(", ", PaperIterations.Select((p, t) => Inv($"{(t == 0 ? "SFT" : $"iter{t}")} {p.Accuracy:F1}/{p.F1:F1}"))) + ".");
        text.AppendLine("Paper, LLMBar Natural (Table 9), Acc/F1: greedy " + Inv($"{PaperVoting[0].Accuracy:F1}/{PaperVoting[0].F1:F1}, ") +
            string.Join(", ", PaperVoting.Skip(1).Select((p, i) => Inv($"voting@{2 * i + 3} {p.Accuracy:F1}/{p.F1:F1}"))) + ".");
        text.AppendLine();
        AppendEnding(text, verdict.Summary, claims, Reading(result), "judgment.png");
        return new ExperimentReport(text.ToString(), new { result, verdict, claims, source, runs }, [new("judgment.png", Plot(result))],
            Section(record, claims, place), Table(result), verdict.Summary, new { result, verdict, claims, source, output = place.Directory }, claims);
    }

    /// <summary>Accuracy against the vote size for R_0 and the final refiner, greedy as a marker at k = 0; ±std error bars over seeds.</summary>
    private static byte[] Plot(JudgmentResult r)
    {
        var plot = new Plot();
        plot.Title("Judgment of the frozen set by majority voting (simulated Tables 2 and 9)");
        plot.XLabel("judge samples per vote (0 = greedy)");
        plot.YLabel("accuracy against the verifiers (%)");
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var ((t, votes), i) in VotedRefiners(r).Select((v, i) => (v, i)))
        {
            var xs = new[] { 0.0 }.Concat(r.Options.VoteSizes.Select(k => (double)k)).ToArray();
            var stats = new[] { Stat(r, s => s.Greedy[t].Accuracy) }.Concat(r.Options.VoteSizes.Select((_, v) => Stat(r, s => votes(s)[v].Accuracy))).ToList();
            var line = plot.Add.Scatter(xs, stats.Select(s => 100 * s.Mean).ToArray());
            line.LegendText = r.Label(t);
            line.Color = palette.GetColor(i);
            plot.Add.ErrorBar(xs, stats.Select(s => 100 * s.Mean).ToArray(), stats.Select(s => 100 * s.Std).ToArray()).Color = palette.GetColor(i);
        }
        var alwaysNo = plot.Add.HorizontalLine(100 * (1 - r.Cases.FollowingRate));
        alwaysNo.LegendText = "always No";
        alwaysNo.Color = Colors.Gray;
        alwaysNo.LinePattern = LinePattern.Dotted;
        plot.Axes.SetLimitsY(0, 100);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
    }

    private static string Section(JudgmentRecord record, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var (r, source, runs) = record;
        var relative = place.RelativeTable;
        var o = r.Options;
        var iterations = string.Join(", ", Enumerable.Range(0, r.Refiners).Select(t =>
            $"{r.Label(t)} {Fig(Stat(r, s => s.Greedy[t].Accuracy))}/{Fig(Stat(r, s => s.Greedy[t].F1))} (Yes rate {Fig(Stat(r, s => s.Greedy[t].YesRate))}, precision {Fig(Stat(r, s => s.Greedy[t].Precision))})"));
        var teacher = r.Cases.TeacherCount > 0
            ? "; teacher cases, apart: " + string.Join(", ", Enumerable.Range(0, r.Refiners).Select(t => $"{r.Label(t)} {Fig(Stat(r, s => s.Teacher[t].Accuracy))}/{Fig(Stat(r, s => s.Teacher[t].F1))}"))
            : "";
        var voting = string.Join("; ", VotedRefiners(r).Select(v =>
            $"{r.Label(v.Iteration)} greedy {Fig(Stat(r, s => s.Greedy[v.Iteration].Accuracy))}, " +
            string.Join(", ", o.VoteSizes.Select((k, i) => $"@{k} {Fig(Stat(r, s => v.Votes(s)[i].Accuracy))}"))));
        var improve = r.Refiners > 1 ? "" : "- Iterations improve the refiner's judgment: **not measured** (one refiner; give --run).\n";
        var where = runs is { Count: > 1 } ? "; each run a loop seed of one experiment" : "";
        return $"""
            ## 5. Judgment per iteration and majority voting (Tables 2, 9)

            `{Command(record)}` ({Inv($"{r.Seconds:F0}")} s{where}), table: [{relative}]({relative}).
            - Cases: {CasesLine(r)}.
            - {PaperLine}
            - Refiners: {source}; seeds: {Seeds(r)}.
            - Ours, Table 2, greedy on the frozen set, Acc/F1, %: {iterations}{teacher}.
            - Ours, Table 9, accuracy by voting on the frozen set: {voting}.
            {(improve + Lines(claims)).TrimEnd('\n')}
            - {Reading(r)}

            """;
    }
}
