using System.Text;
using ScottPlot;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;
using static SparOrleans.Experiments.Reporting.ReportFormat;

namespace SparOrleans.Experiments;

/// <param name="Claims">Per compared variant, whether SPaR ends above it (paired t across seeds: same M_0/R_0 and prompts; p &lt; 0.05).</param>
/// <param name="SparImproves">Whether SPaR's final average is above M_0's (paired t across seeds).</param>
/// <param name="JudgeClaims">Per variant of <see cref="LoopReport.JudgeClaims"/>, whether SPaR's final refiner judges better.</param>
public sealed record LoopVerdict(IReadOnlyDictionary<string, bool> Claims, bool? SparImproves, string Summary,
    IReadOnlyDictionary<string, bool>? JudgeClaims = null);

/// <summary>
/// <c>spar experiment baselines</c> (Table 1, Figure 3) and <c>spar experiment ablations</c> (Tables 4–5): one of the
/// two experiments, its variants, section and what the paper reports for each variant.
/// </summary>
/// <param name="Paper">Per variant, the paper's LLaMA3-8B IFEval figures: P(S), I(S) and the average (absolute for Table 1, deltas against SPaR for Table 4).</param>
/// <param name="JudgeClaims">The variants whose final refiner the paper finds worse than SPaR's (Table 5).</param>
public sealed record LoopReport(string Name, int Section, string Title, IReadOnlyList<LoopVariant> Variants, string PaperNote,
    IReadOnlyDictionary<string, (double PromptStrict, double InstructionStrict, double? Average)> Paper, IReadOnlyList<string> JudgeClaims)
    : IExperiment<LoopExperimentResult>
{
    public static LoopReport Baselines { get; } = new("baselines", 2, "SPaR vs baselines over 3 iterations (Table 1, Figure 3)", LoopVariants.Baselines,
        "Table 1, LLaMA3-8B on IFEval: SPaR-8B-DPO-iter3 beats SELF, Self-Rewarding and Meta-Rewarding (P(S) 78.0 vs 76.0, 74.1, 75.4; avg 81.8 vs 80.4, 79.3, 79.9); Figure 3: SPaR leads in every iteration.",
        new Dictionary<string, (double, double, double?)>
        {
            ["spar"] = (78.0, 83.7, 81.8),
            ["self-rewarding"] = (74.1, 81.7, 79.3),
            ["meta-rewarding"] = (75.4, 82.3, 79.9),
            ["self"] = (76.0, 82.9, 80.4),
        },
        []);

    public static LoopReport Ablations { get; } = new("ablations", 3, "Ablations (Tables 4–5)", LoopVariants.Ablations,
        "Table 4, SPaR-8B-DPO-iter3 on IFEval P(S)/I(S): w/o tree search −2.0/−0.8, w/o iterative training −0.9/−0.2, w/o refinement −2.6/−1.6; Table 5: the refiner loses judgment accuracy without tree search (−4.3) and without iterative training (−1.7).",
        new Dictionary<string, (double, double, double?)>
        {
            ["spar"] = (78.0, 83.7, null),
            ["no-tree-search"] = (-2.0, -0.8, null),
            ["no-iterative-training"] = (-0.9, -0.2, null),
            ["no-refinement"] = (-2.6, -1.6, null),
        },
        [LoopVariants.NoTreeSearch.Name, LoopVariants.NoIterativeTraining.Name]);

    private static string ImprovesStatement(LoopVariant v) => $"{v.Label} improves on M_0";

    private static string AboveStatement(LoopVariant v) => $"SPaR ends above {v.Label}";

    private static string JudgeStatement(LoopVariant v) => $"Table 5: SPaR's final refiner judges better than {v.Label}'s";

    private const string FrozenCaseStatement = "SPaR's final refiner judges more frozen cases right than R_0";

    private const string RefinerImproves = "SPaR's refiner improves on R_0 (greedy judge accuracy)";

    private static string LeadStatement(LoopVariant v, int iteration) => $"Figure 3: SPaR above {v.Label} at iteration {iteration}";

    public IReadOnlyList<Claim> Claims(LoopExperimentResult result)
    {
        var spar = Spar(result);
        var claims = new List<Claim>();
        if (spar is not null)
        {
            claims.Add(Claim.AcrossSeeds(ImprovesStatement(spar.Variant), spar.Final.Average, spar.Start.Average));
            claims.Add(Claim.AcrossSeeds(RefinerImproves, spar.Final.JudgeAccuracy, spar.Start.JudgeAccuracy));
            claims.AddRange(RefinerCaseClaims(FrozenCases(result, spar.Variant)));
            foreach (var other in result.Variants.Where(v => v != spar))
            {
                claims.Add(Claim.AcrossSeeds(AboveStatement(other.Variant), spar.Final.Average, other.Final.Average));
                if (JudgeClaims.Contains(other.Variant.Name))
                {
                    claims.Add(Claim.AcrossSeeds(JudgeStatement(other.Variant), spar.Final.JudgeAccuracy, other.Final.JudgeAccuracy));
                }
            }
            if (Name == Baselines.Name)
            {
                foreach (var i in Enumerable.Range(1, spar.Points.Count - 1))
                {
                    claims.AddRange(result.Variants.Where(v => v != spar && v.Points.Count > i)
                        .Select(other => Claim.AcrossSeeds(LeadStatement(other.Variant, i), spar.Points[i].Average, other.Points[i].Average)));
                }
            }
        }
        claims.AddRange(result.Variants.Where(v => v != spar).Select(v => Claim.AcrossSeeds(ImprovesStatement(v.Variant), v.Final.Average, v.Start.Average)));
        return claims;
    }

    /// <summary>
    /// Per loop seed, McNemar's exact test that the final refiner judges more of the same frozen evaluation cases right
    /// than R_0 (per case: whether each judge's verdict matches the verifiers). This is where the judge evaluation's
    /// per-case correctness enters the loop experiments: <see cref="Claims"/> adds these once an
    /// <c>IterationReport</c> carries it (experiments/README.md, "Per-case judge claims").
    /// </summary>
    public static IReadOnlyList<Claim> RefinerCaseClaims(IEnumerable<(int Seed, IReadOnlyList<bool> Start, IReadOnlyList<bool> Final)> seeds) =>
        [.. seeds.Select(s => Claim.McNemar($"{FrozenCaseStatement} (seed {s.Seed})", s.Final, s.Start))];

    // Runs whose refiners carry the frozen judge set (bootstraps before it have none): R_0's and the final R_t's
    // per-case correctness on the same cases.
    private static IEnumerable<(int Seed, IReadOnlyList<bool> Start, IReadOnlyList<bool> Final)> FrozenCases(LoopExperimentResult result, LoopVariant variant) =>
        result.Runs
            .Where(r => r.Variant == variant.Name && r.Reports.Count > 1)
            .Select(r => (r.Seed, Start: r.Reports[0].RefinerJudgment.FrozenCorrectCases(), Final: r.Reports[^1].RefinerJudgment.FrozenCorrectCases()))
            .Where(r => r.Start.Count > 0 && r.Start.Count == r.Final.Count)
            .OrderBy(r => r.Seed);

    public LoopVerdict Verdict(LoopExperimentResult result, IReadOnlyList<Claim> claims)
    {
        bool Holds(string statement) => claims.Single(c => c.Statement == statement).Holds;
        var spar = Spar(result);
        var above = new Dictionary<string, bool>();
        var judge = new Dictionary<string, bool>();
        var parts = new List<string>();
        bool? improves = null;
        if (spar is not null)
        {
            improves = Holds(ImprovesStatement(spar.Variant));
            parts.Add(Inv($"SPaR above M_0 after {spar.Final.Iteration} iterations: {Word(improves.Value)} (average {Pct(spar.Start.Average)} → {Pct(spar.Final.Average)})"));
            foreach (var other in result.Variants.Where(v => v != spar))
            {
                above[other.Variant.Name] = Holds(AboveStatement(other.Variant));
                parts.Add(Inv($"SPaR above {other.Variant.Label}: {Word(above[other.Variant.Name])} ({Pct(spar.Final.Average)} vs {Pct(other.Final.Average)})"));
                if (JudgeClaims.Contains(other.Variant.Name))
                {
                    judge[other.Variant.Name] = Holds(JudgeStatement(other.Variant));
                    parts.Add(Inv($"SPaR's refiner above {other.Variant.Label}'s: {Word(judge[other.Variant.Name])} (judge accuracy {Pct(spar.Final.JudgeAccuracy)} vs {Pct(other.Final.JudgeAccuracy)})"));
                }
            }
        }
        else
        {
            parts.Add("SPaR was not among the variants: no claim is judged");
        }
        return new LoopVerdict(above, improves, string.Join("; ", parts), judge);
    }

    /// <summary>SPaR's figures, the reference every claim compares against; null when it was not among the variants.</summary>
    private static LoopVariantResult? Spar(LoopExperimentResult result) => result.Variants.FirstOrDefault(v => v.Variant.Name == LoopVariants.Spar.Name);

    public string Table(LoopExperimentResult result)
    {
        var o = result.Options;
        var text = new StringBuilder();
        text.AppendLine(Inv($"Preset {o.Preset}, shared M_0/R_0 (model seed {o.ModelSeed}); {o.Iterations} iterations × {o.Prompts} prompts; {o.Seeds} loop seeds{(o.Overlay is null ? "" : $"; options {o.Overlay}")}; {result.Seconds / 60:F0} min. Held-out IFEval of the final actor, %, mean ± std over seeds; judge = the final refiner's greedy judgment accuracy."));
        text.AppendLine();
        text.AppendLine("| Method | Paper P(S) | Paper I(S) | P(L) | I(L) | P(S) | I(S) | Avg. | Δ avg vs M_0 | Δ P(S) / I(S) vs SPaR | Judge acc. | DPO pairs / iter | min / run |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var start = result.Variants[0].Start;
        var spar = Spar(result);
        text.AppendLine(Inv($"| M_0 / R_0 | | | {Pct(start.PromptLoose)} | {Pct(start.InstructionLoose)} | {Pct(start.PromptStrict)} | {Pct(start.InstructionStrict)} | {Pct(start.Average)} | | | {Pct(start.JudgeAccuracy)} | | |"));
        foreach (var v in result.Variants)
        {
            var f = v.Final;
            var paper = Paper.TryGetValue(v.Variant.Name, out var p) ? p : default;
            var delta = PairedDifference(f.Average, v.Start.Average);
            var vsSpar = spar is null || v == spar ? "" : $"{Pct(PairedDifference(f.PromptStrict, spar.Final.PromptStrict))} / {Pct(PairedDifference(f.InstructionStrict, spar.Final.InstructionStrict))}";
            var pairs = v.Points.Skip(1).Select(x => x.DpoPairs.Mean).DefaultIfEmpty(0).Average();
            text.AppendLine(Inv($"| {v.Variant.Label} | {Signed(paper.PromptStrict, v)} | {Signed(paper.InstructionStrict, v)} | {Pct(f.PromptLoose)} | {Pct(f.InstructionLoose)} | {Pct(f.PromptStrict)} | {Pct(f.InstructionStrict)} | {Pct(f.Average)} | {Pct(delta)} | {vsSpar} | {Pct(f.JudgeAccuracy)} | {pairs:F1} | {v.MinutesPerRun:F1} |"));
        }
        return text.ToString();

        string Signed(double value, LoopVariantResult v) =>
            Name == Ablations.Name && v.Variant.Name != LoopVariants.Spar.Name ? Inv($"{value:+0.0;−0.0}") : Inv($"{value:F1}");
    }

    /// <summary>Per-iteration rows, the data behind the plot (Figure 3).</summary>
    public static string IterationTable(LoopExperimentResult result)
    {
        var text = new StringBuilder();
        text.AppendLine("| Method | Iteration | P(S) | I(S) | Avg. | Judge acc. | DPO pairs |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var v in result.Variants)
        {
            foreach (var p in v.Points)
            {
                text.AppendLine(Inv($"| {v.Variant.Label} | {p.Iteration} | {Pct(p.PromptStrict)} | {Pct(p.InstructionStrict)} | {Pct(p.Average)} | {Pct(p.JudgeAccuracy)} | {p.DpoPairs.Mean:F1} |"));
            }
        }
        return text.ToString();
    }

    public ExperimentReport Report(LoopExperimentResult result, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        var verdict = Verdict(result, claims);
        var text = new StringBuilder();
        text.AppendLine($"# {Title}");
        text.AppendLine();
        text.AppendLine($"Produced by `spar experiment {Name}` (see docs/results.md). Every row is a real `spar run` on the embedded silo from the");
        text.AppendLine("same M_0/R_0 and the same prompts per seed: SPaR = DPO on tree-search refinements (BFS); Self-Rewarding = DPO on the");
        text.AppendLine("sample the refiner's own vote rates highest against the lowest; Meta-Rewarding = those pairs, and the refiner's DPO on");
        text.AppendLine("kept-vs-dissenting judgments of each vote (the majority plays the meta-judge); SELF = the same tree search, SFT of");
        text.AppendLine("the actor on the refined responses alone; w/o Tree Search = one greedy refinement per negative; w/o Iterative");
        text.AppendLine("Training = one round on all iterations' prompts; w/o Refinement = a sample the own vote passes against one it fails.");
        text.AppendLine("Every refiner gets the loop's RFT; each claim is a paired t test of the per-seed differences (one-sided, p < 0.05).");
        text.AppendLine();
        text.Append(Table(result));
        text.AppendLine();
        text.Append(IterationTable(result));
        text.AppendLine();
        AppendEnding(text, verdict.Summary, claims, null, $"{Name}.png");
        var paper = Paper.ToDictionary(kv => kv.Key, kv => new { prompt_strict = kv.Value.PromptStrict, instruction_strict = kv.Value.InstructionStrict, average = kv.Value.Average });
        return new ExperimentReport(text.ToString(), new { result, verdict, claims, paper }, [new($"{Name}.png", Plot(result))],
            SectionText(result, verdict, claims, place), Table(result), verdict.Summary, new { result, verdict, claims, output = place.Directory }, claims);
    }

    /// <summary>Figure 3: the held-out IFEval average per iteration, one line per variant, ±std error bars.</summary>
    private byte[] Plot(LoopExperimentResult result)
    {
        var plot = new Plot();
        plot.Title($"{Title} (simulated)");
        plot.XLabel(result.Variants.Any(v => v.Variant.OneRound) ? "iteration (0 = M_0; one round is drawn at the data it saw)" : "iteration (0 = M_0)");
        plot.YLabel("held-out IFEval average (%)");
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < result.Variants.Count; i++)
        {
            var v = result.Variants[i];
            var xs = v.Points.Select(p => (double)p.Iteration).ToArray();
            var ys = v.Points.Select(p => 100 * p.Average.Mean).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = v.Variant.Label;
            line.Color = palette.GetColor(i);
            plot.Add.ErrorBar(xs, ys, v.Points.Select(p => 100 * p.Average.Std).ToArray()).Color = palette.GetColor(i);
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImage(800, 450).GetImageBytes(ImageFormat.Png);
    }

    private string SectionText(LoopExperimentResult result, LoopVerdict verdict, IReadOnlyList<Claim> claims, ReportPlace place)
    {
        Claim Find(string statement) => claims.Single(c => c.Statement == statement);
        var relative = place.RelativeTable;
        var o = result.Options;
        var spar = Spar(result);
        var lines = new StringBuilder();
        lines.AppendLine($"## {Section}. {Title}");
        lines.AppendLine();
        lines.AppendLine(Inv($"`spar experiment {Name} --seeds {o.Seeds} --iterations {o.Iterations} --prompts {o.Prompts}{(o.Preset == "default" ? "" : $" --preset {o.Preset}")}{(o.Overlay is null ? "" : $" --options FILE")}`{(o.Overlay is null ? "" : $", FILE holding `{o.Overlay}`")} ({result.Seconds / 60:F0} min with cached M_0/R_0; {result.Runs.Count(r => r.Reused)} of {result.Runs.Count} runs reused from an earlier experiment), table: [{relative}]({relative})."));
        if (o.Preset == "default")
        {
            var run = SimulatorOptions.Default;
            var loop = o.Simulator(LoopVariants.Spar, 1);
            var prompts = o.Prompts == run.IterationPrompts ? Inv($"{o.Prompts} prompts per iteration (the default's)") : Inv($"{o.Prompts} prompts per iteration instead of {run.IterationPrompts}");
            lines.AppendLine(Inv($"Each run is `spar run` from the cached M_0/R_0 with {prompts} and {loop.JudgeEvalCases + loop.JudgeEvalActorCases} teacher judge-evaluation cases instead of {run.JudgeEvalCases + run.JudgeEvalActorCases}, so that a run takes a few minutes on this 2-core machine; everything else (model, K = {loop.SamplesPerPrompt}, voting@{loop.InitialVoting.Samples}, BFS, DPO, RFT, {run.HeldOutCount} held-out prompts, the refiner's frozen judge set) is the default."));
            lines.AppendLine();
        }
        lines.AppendLine($"- Paper: {PaperNote}");
        lines.AppendLine("- Ours (held-out IFEval average of the final actor, %, mean ± std over " + Inv($"{o.Seeds}") + " seeds; M_0 " + Pct(result.Variants[0].Start.Average) + "): " +
            string.Join(", ", result.Variants.Select(v => $"{v.Variant.Label} {Pct(v.Final.Average)}")) + ".");
        if (spar is not null)
        {
            lines.AppendLine(Find(ImprovesStatement(spar.Variant)).Line());
            lines.AppendLine(Find(RefinerImproves).Line());
            foreach (var seed in claims.Where(c => c.Statement.StartsWith(FrozenCaseStatement, StringComparison.Ordinal)))
            {
                lines.AppendLine(seed.Line());
            }
        }
        foreach (var v in result.Variants.Where(v => verdict.Claims.ContainsKey(v.Variant.Name)))
        {
            // The reverse direction is a remark, not a claim of the paper: it is tested but not counted in the family.
            var reverse = PairedTests.AcrossSeeds(v.Final.Average.PerSeed, spar!.Final.Average.PerSeed).P < PairedTests.Alpha;
            lines.AppendLine(Find(AboveStatement(v.Variant)).Line() + (reverse ? $" The reverse holds: {v.Variant.Label} ends above SPaR (paired t, p < 0.05)." : ""));
        }
        foreach (var name in verdict.JudgeClaims?.Keys ?? [])
        {
            var v = result.Variants.Single(x => x.Variant.Name == name);
            lines.AppendLine(Find(JudgeStatement(v.Variant)).Line() + Inv($" Greedy judge accuracy {Pct(spar!.Final.JudgeAccuracy)} vs {Pct(v.Final.JudgeAccuracy)}; R_0 {Pct(v.Start.JudgeAccuracy)}."));
        }
        if (Name == Baselines.Name && spar is not null && result.Variants.Count > 1)
        {
            var others = result.Variants.Where(v => v != spar).ToList();
            var iterations = Enumerable.Range(1, spar.Points.Count - 1).ToList();
            var highest = iterations.Where(i => others.All(x => spar.Points[i].Average.Mean > x.Points[i].Average.Mean)).ToList();
            var leads = claims.Where(c => c.Statement.StartsWith("Figure 3:", StringComparison.Ordinal)).ToList();
            lines.AppendLine($"- Figure 3: SPaR above every baseline at every iteration (all {leads.Count} paired tests at p < 0.05): **{Word(leads.Count > 0 && leads.All(c => c.Holds))}** " +
                $"(SPaR has the highest mean at iteration{(highest.Count == 1 ? "" : "s")} {(highest.Count == 0 ? "none" : string.Join(", ", highest))} of {iterations.Count}; " +
                $"{leads.Count(c => c.Holds)} of the {leads.Count} hold; table.md lists each; see the plot).");
        }
        if (spar is not null && spar.Points.Count > 2)
        {
            var best = spar.Points.Skip(1).MaxBy(p => p.Average.Mean)!;
            var searched = result.Runs.Where(r => r.Variant == spar.Variant.Name).SelectMany(r => r.Reports.Skip(1)).ToList();
            var winners = searched.Sum(r => r.Winners);
            var verified = searched.Sum(r => (r.RefinementSuccess ?? 0) * r.Negatives);
            var course = best.Iteration == spar.Final.Iteration
                ? Inv($"SPaR's actor peaks after its last iteration ({Pct(best.Average)}; M_0 {Pct(spar.Start.Average)})")
                : Inv($"SPaR's actor peaks after iteration {best.Iteration} ({Pct(best.Average)}) and ends at {Pct(spar.Final.Average)}");
            // The verified share of the winners is what separates a run whose DPO helps from one whose pairs are noise.
            var share = winners == 0 ? 0 : verified / winners;
            var consequence = verdict.SparImproves == true
                ? "with that share of verified winners the DPO rounds add up to a gain over M_0 (paired t, p < 0.05)"
                : share < 0.5
                    ? "SPaR's chosen responses are mostly not better than its rejected ones, and DPO rounds on them do not accumulate a gain"
                    : "yet the DPO rounds on them do not add up to a gain over M_0 at p < 0.05";
            lines.AppendLine(Inv($"- Reading: {course}. Its refiner's greedy judge accuracy goes {Pct(spar.Start.JudgeAccuracy)} → {Pct(spar.Final.JudgeAccuracy)} (chance 50%); of the {winners} tree-search winners its own vote accepted, {verified:F0} ({100 * share:F0}%) follow every constraint by the verifiers: {consequence}."));
        }
        var improving = result.Variants.Where(v => Find(ImprovesStatement(v.Variant)).Holds).Select(v => v.Variant.Label).ToList();
        lines.AppendLine($"- Methods whose final actor is above M_0 (paired t, p < 0.05): {(improving.Count == 0 ? "none" : string.Join(", ", improving))}.");
        lines.AppendLine("- Training data per iteration (DPO pairs, or SELF's refined responses): " +
            string.Join(", ", result.Variants.Select(v => Inv($"{v.Variant.Label} {v.Points.Skip(1).Select(p => p.DpoPairs.Mean).DefaultIfEmpty(0).Average():F1}"))) +
            Inv($" from {o.Prompts} prompts{(result.Variants.Any(v => v.Variant.OneRound) ? $" (one round: from {o.Prompts * o.Iterations})" : "")}. The paper gives every method nearly the same number of training samples; here every method gets the same prompts, so the baselines that pair independent samples train on more pairs than the tree search yields."));
        return lines.ToString();
    }
}
