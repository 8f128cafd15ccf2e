using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Experiments.Reporting;
using SparOrleans.Models.Evaluation;
using SparOrleans.Simulator;
using SparOrleans.World.Teaching;

namespace SparOrleans.Experiments.Tests;

/// <summary>
/// The judgment experiment's claims on hand-built per-case verdicts (scored by <see cref="JudgmentScoring"/>, as the
/// experiment scores them) and its check that the runs share one frozen set and one R_0.
/// </summary>
public sealed class JudgmentReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spar-judgment-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A judge's score on cases that all follow: right where <paramref name="correct"/> says (a Yes), else a No.</summary>
    private static JudgmentScore Score(IReadOnlyList<bool> correct) =>
        JudgmentScoring.Score([.. correct.Select(_ => true)], [.. correct.Select(c => c ? Verdict.Yes : Verdict.No)]);

    private static bool[] Correct(int right, int wrong) => [.. Enumerable.Repeat(true, right), .. Enumerable.Repeat(false, wrong)];

    // Five runs over 25 cases. R_0 (shared) gets 10 right; run r's final refiner 18 − r (run-1: the 10 R_0 misses at
    // the front and 8 of R_0's 10): paired differences of 8, 7, 6, 5, 4 cases. Its voting@k gets the first 10 + k
    // cases right: voting@5 15, below its greedy mean of 16.
    private static JudgmentResult FiveRuns()
    {
        var (_, before) = PairedTestsTests.Cases(onlyAfter: 10, onlyBefore: 2, both: 8, neither: 5);
        var options = new JudgmentOptions(MaxVotes: 9, TeacherCases: 0);
        var seeds = Enumerable.Range(0, 5).Select(r =>
        {
            var (after, _) = PairedTestsTests.Cases(onlyAfter: 10 - r, onlyBefore: 2, both: 8, neither: 5 + r);
            IReadOnlyList<JudgmentScore> votes = [.. options.VoteSizes.Select(k => Score(Correct(10 + k, 15 - k)))];
            return new JudgmentSeed($"run-{r + 1}", JudgmentExperiment.SamplingSeed(r + 1), [Score(before), Score(after)], [], votes, votes);
        }).ToList();
        return new JudgmentResult(options, new JudgedCases(25, 25, 480, 0.9, 0), true, seeds, 1);
    }

    [Fact]
    public void Claims_FiveRuns_PairedAcrossRunsAndMcNemarPerRunOnTheSameCases()
    {
        var result = FiveRuns();

        var claims = ReportWriter.Render(JudgmentReport.Instance, new JudgmentRecord(result, "s", null), new ReportPlace(_dir, Path.Combine(_dir, "results.md"))).Claims;

        // One across runs and five per run for each of the two comparisons, and the vote against one sample.
        Assert.Equal(13, claims.Count);
        Assert.All(claims, c => Assert.NotNull(c.HolmP));
        var improve = claims.Single(c => c.Statement == "The final refiner judges the frozen set more accurately than R_0 (greedy, across runs)");
        Assert.Equal("paired t", improve.Outcome.Test);
        Assert.Equal(6.0 / 25, improve.Outcome.Difference, 12);
        // Every run gains: the exact sign-flip test's smallest p, 1/32.
        Assert.Equal(1.0 / 32, improve.Outcome.SignFlipP!.Value, 12);
        Assert.True(improve.Holds);
        var first = claims.Single(c => c.Statement == "The final refiner judges more frozen cases right than R_0 (greedy, run-1)");
        Assert.Equal(79.0 / 4096, first.Outcome.P!.Value, 12);
        Assert.StartsWith("- The final refiner judges more frozen cases right than R_0 (greedy, run-1): **reproduced** (McNemar exact over 25 cases: +32.0 points, 95% CI [",
            first.Line());
        // Voting@5 (15 right) against greedy (18 − r right): below on every run.
        var voting = claims.Single(c => c.Statement == "Voting@5 beats greedy judgment (final refiner, across runs)");
        Assert.Equal((15 - 16.0) / 25, voting.Outcome.Difference, 12);
        Assert.False(voting.Holds);
        Assert.Equal(5, claims.Count(c => c.Statement.StartsWith("Voting@5 judges more frozen cases right than greedy (final refiner, run-", StringComparison.Ordinal)));
        // Voting@9 (19) over voting@1 (11) on every run: a constant gain.
        var overSample = claims.Single(c => c.Statement == "Voting@9 beats one sampled judgment (final refiner, across runs)");
        Assert.Equal(8.0 / 25, overSample.Outcome.Difference, 12);
        Assert.True(overSample.Holds);
        var verdict = JudgmentReport.Verdict(result, claims);
        Assert.Equal((true, false, true), (verdict.IterationsImprove!.Value, verdict.VotingBeatsGreedy, verdict.VotingBeatsOneSample));
    }

    [Fact]
    public void Report_FiveRuns_StatesTheCasesThePaperAndEachClaim()
    {
        var result = FiveRuns();
        var place = new ReportPlace(_dir, Path.Combine(_dir, "results.md"));
        var record = new JudgmentRecord(result, "the refiners of 5 loop runs", [.. Enumerable.Range(1, 5).Select(r => $"/h/run-{r}")]);

        var report = ReportWriter.Render(JudgmentReport.Instance, record, place);

        Assert.Contains("`spar experiment judgment --run run-1 --run run-2 --run run-3 --run run-4 --run run-5 --teacher-cases 0`", report.Section);
        Assert.Contains("R_0's frozen set, the first 25 of 480 cases of M_0's own answers (sampled at T 0.9) on held-out prompts, labelled by the verifiers, 100.0% following", report.Section);
        Assert.Contains("SFT 65.5/57.3 → RFT-iter3 68.3/63.1 (Table 2); Natural subset greedy 68.0/60.7, voting@3–9 66.5–69.0 (Table 9)", report.Section);
        // R_0 is shared: one figure, no spread; the final refiner varies over runs (18 − r of 25 right).
        Assert.Contains("refiner-0 40.0/57.1 (Yes rate 40.0, precision 100.0)", report.Section);
        Assert.Contains("refiner-1 64.0 ± 6.3/", report.Section);
        foreach (var claim in report.Claims)
        {
            Assert.Contains(claim.Line(), report.Section);
            Assert.Contains(claim.Line(), report.Document);
        }
        Assert.Contains("| refiner-0 | 40.0 | 57.1 | 40.0 | 100.0 | 0.0 |", report.Table);
    }

    [Fact]
    public void Claims_OneRun_VotesAcrossSamplingSeedsAndOneMcNemarOnTheGreedyVerdicts()
    {
        var (after, before) = PairedTestsTests.Cases(onlyAfter: 3, onlyBefore: 3, both: 10, neither: 4);
        var options = new JudgmentOptions(Seeds: 2, MaxVotes: 3);
        var seeds = Enumerable.Range(1, 2).Select(s => new JudgmentSeed($"sampling seed {s}", JudgmentExperiment.SamplingSeed(s),
            [Score(before), Score(after)], [], [Score(Correct(12, 8)), Score(Correct(13, 7))], [Score(Correct(13 + s, 7 - s)), Score(Correct(14, 6))])).ToList();
        var result = new JudgmentResult(options, new JudgedCases(20, 20, 20, 0.9, 0), false, seeds, 1);

        var claims = JudgmentReport.Instance.Claims(new JudgmentRecord(result, "s", ["/h/run-1"]));

        Assert.Equal([
            "The final refiner judges the frozen set more accurately than R_0 (voting@3, across sampling seeds)",
            "The final refiner judges more frozen cases right than R_0 (greedy, same cases)",
            "Voting@3 beats greedy judgment (final refiner, across sampling seeds)",
            "Voting@3 judges more frozen cases right than greedy (final refiner, sampling seed 1)",
            "Voting@3 judges more frozen cases right than greedy (final refiner, sampling seed 2)",
            "Voting@3 beats one sampled judgment (final refiner, across sampling seeds)",
        ], claims.Select(c => c.Statement));
        Assert.Equal(42.0 / 64, claims[1].Outcome.P!.Value, 12);
        // Voting@3 of the final refiner 14 right against R_0's 13, on both sampling seeds.
        Assert.Equal(1.0 / 20, claims[0].Outcome.Difference, 12);
    }

    [Theory]
    [InlineData(3, 1, "mostly sampling that does, not the vote")]
    [InlineData(0, 0, "Nearly every verdict parses")]
    [InlineData(2, 2, "about equally often")]
    public void Reading_UnbalancedSetAndInvalidVerdicts_StatesTheTrivialJudgesAndWhichColumnLacksVerdicts(int greedyInvalid, int sampledInvalid, string conclusion)
    {
        // 10 cases, 3 following. The judge says Yes on the first two (one follows), No on the rest but the invalid ones.
        bool[] truth = [true, false, true, true, false, false, false, false, false, false];
        JudgmentScore Judge(int invalid) => JudgmentScoring.Score(truth, [.. truth.Select((_, i) => i < 2 ? Verdict.Yes : i >= 10 - invalid ? Verdict.Invalid : Verdict.No)]);
        var seeds = Enumerable.Range(1, 2).Select(s => new JudgmentSeed($"sampling seed {s}", s, [Judge(greedyInvalid)], [], [Judge(sampledInvalid)], [Judge(sampledInvalid)])).ToList();
        var result = new JudgmentResult(new JudgmentOptions(Seeds: 2, MaxVotes: 1), new JudgedCases(10, 3, 10, 0.9, 0), false, seeds, 1);

        var reading = JudgmentReport.Reading(result);

        Assert.Contains("a judge that always says No scores 70.0% (F1 0), one that always says Yes 30.0% (F1 46.2)", reading);
        Assert.Contains("where its precision is above 30.0%: refiner-0 50.0 (greedy)", reading);
        Assert.Contains(FormattableString.Invariant($"refiner-0 {10.0 * greedyInvalid:F1}% / {10.0 * sampledInvalid:F1}%"), reading);
        Assert.Contains(conclusion, reading);
    }

    private string RefinerZero(string run, int weightsSeed, Action<string>? frozen)
    {
        var dir = Path.Combine(_dir, run, "models", "refiner-0");
        using var model = LanguageModel.CreateByteLevel(hiddenSize: 8, layers: 1, heads: 1, seed: weightsSeed);
        ModelCheckpoint.Save(model, dir);
        frozen?.Invoke(dir);
        return Path.Combine(_dir, run);
    }

    private static Action<string> FrozenSet(int teacherAnswers) => dir =>
    {
        var seed = FrozenJudgeSet.PromptSeedFor(7);
        var prompts = Evaluation.HeldOutPrompts(3, seed);
        FrozenJudgeSet.FromSamples(prompts, [.. prompts.Select((p, i) => i < teacherAnswers ? Teacher.Answer(p, i) : "x")], seed, 0.9).Save(dir);
    };

    [Fact]
    public void SharedFrozenSet_SameBootstrap_IsTheStoredSet()
    {
        var runs = new[] { RefinerZero("a", 1, FrozenSet(2)), RefinerZero("b", 1, FrozenSet(2)) }.Select(JudgmentExperiment.Run).ToList();

        var set = JudgmentExperiment.SharedFrozenSet(runs);

        Assert.Equal(3, set.Cases.Count);
        Assert.Equal(["a", "b"], runs.Select(r => r.Name));
    }

    [Fact]
    public void SharedFrozenSet_DifferentSets_RefusedNamingBothRuns()
    {
        var runs = new[] { RefinerZero("a", 1, FrozenSet(2)), RefinerZero("b", 1, FrozenSet(1)) }.Select(JudgmentExperiment.Run).ToList();

        var error = Assert.Throws<UserInputException>(() => JudgmentExperiment.SharedFrozenSet(runs));

        Assert.Contains("a and b have different frozen judge sets", error.Message);
    }

    [Fact]
    public void SharedFrozenSet_SameSetButAnotherR0_Refused()
    {
        var runs = new[] { RefinerZero("a", 1, FrozenSet(2)), RefinerZero("b", 2, FrozenSet(2)) }.Select(JudgmentExperiment.Run).ToList();

        var error = Assert.Throws<UserInputException>(() => JudgmentExperiment.SharedFrozenSet(runs));

        Assert.Contains("a and b start from different R_0 checkpoints", error.Message);
    }

    [Fact]
    public void SharedFrozenSet_RunFromBeforeFrozenSets_RefusedNamingTheFile()
    {
        var runs = new[] { RefinerZero("a", 1, FrozenSet(2)), RefinerZero("old", 1, null) }.Select(JudgmentExperiment.Run).ToList();

        var error = Assert.Throws<UserInputException>(() => JudgmentExperiment.SharedFrozenSet(runs));

        Assert.Contains("has no judge_eval.json: old was bootstrapped before the frozen judge set existed", error.Message);
    }
}
