using System.Diagnostics;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Simulation;

using SparOrleans.Experiments.Statistics;
using SparOrleans.Models.Evaluation;
using SparOrleans.Models.Generation;
using SparOrleans.Simulator;

namespace SparOrleans.Experiments;

/// <summary>
/// Experiment 5 (paper Tables 2 and 9): each refiner of a run judges the same held-out cases (teacher answers and
/// teacher near misses, half each, from the evaluation's fixed set), greedily and by majority voting@k over the first
/// k of <see cref="MaxVotes"/> samples at <see cref="Temperature"/>. Defaults: 5 sampling seeds, 60 cases, k = 1, 3,
/// 5, 7, 9.
/// </summary>
public sealed record JudgmentOptions(
    int Seeds = 5,
    int Cases = 60,
    int MaxVotes = 9,
    double Temperature = 0.7) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .InRange(nameof(Cases), Cases, 2, 2000)
        .Require(Cases % 2 == 0, $"{nameof(Cases)} must be even: half follow, half fail (got {Cases})")
        .InRange(nameof(MaxVotes), MaxVotes, 1, 63)
        .Require(MaxVotes % 2 == 1, $"{nameof(MaxVotes)} must be odd (got {MaxVotes})")
        .InRange(nameof(Temperature), Temperature, 0.01, 5);

    /// <summary>The vote sizes measured: every odd k up to <see cref="MaxVotes"/>.</summary>
    public IReadOnlyList<int> VoteSizes => [.. Enumerable.Range(0, MaxVotes / 2 + 1).Select(i => 2 * i + 1)];

    /// <summary>Index in <see cref="VoteSizes"/> of voting@5, the loop's vote (the largest vote when fewer are measured).</summary>
    public int LoopVoteIndex => Math.Min(2, VoteSizes.Count - 1);
}

/// <summary>Accuracy and Yes-class F1 of one way of judging, over seeds.</summary>
public sealed record JudgingStat(SeedStat Accuracy, SeedStat F1, SeedStat Invalid);

/// <param name="Label">The refiner's name (e.g. <c>refiner-2</c>).</param>
/// <param name="Greedy">Greedy judgment: one deterministic figure (its std is 0).</param>
/// <param name="Votes">Majority voting@k, in <see cref="JudgmentOptions.VoteSizes"/> order; a tie counts as wrong.</param>
/// <param name="GreedyCorrect">Per case, in the fixed cases' order, whether the greedy verdict is right: what McNemar's test pairs between refiners (null in results written before it was kept).</param>
public sealed record RefinerJudging(string Label, JudgingStat Greedy, IReadOnlyList<JudgingStat> Votes, IReadOnlyList<bool>? GreedyCorrect = null);

public sealed record JudgmentResult(JudgmentOptions Options, IReadOnlyList<RefinerJudging> Refiners, double Seconds);

public static class JudgmentExperiment
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    /// <summary>Judges the fixed cases with each refiner in turn (one loaded at a time).</summary>
    public static async Task<JudgmentResult> RunAsync(JudgmentOptions options, IReadOnlyList<(string Label, string Directory)> refiners,
        SimulatorOptions simulator, Action<string> log, CancellationToken cancellationToken = default)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var cases = Evaluation.TeacherJudgeCases(options.Cases, simulator.HeldOutSeed);
        var truth = cases.Select(c => c.Follows).ToList();
        var prompts = cases.Select(c => Format.JudgePrompt(c.Prompt.Text, c.Response)).ToList();
        var results = new List<RefinerJudging>();
        foreach (var (label, directory) in refiners)
        {
            await using var refiner = SimulatorModels.Load(directory, simulator);
            log($"{label}: greedy judgments of {cases.Count} cases");
            var greedy = (await refiner.GenerateAllAsync(prompts, 0, simulator.JudgeMaxNewTokens, 0, cancellationToken: cancellationToken).ConfigureAwait(false))
                .Select(Format.ParseVerdict).ToList();
            var perSeed = new List<IReadOnlyList<JudgmentScore>>();
            for (var seed = 1; seed <= options.Seeds; seed++)
            {
                log($"{label}: seed {seed}/{options.Seeds}, {options.MaxVotes} samples per case ({clock.Elapsed.TotalSeconds:F0} s)");
                var samples = await refiner.GenerateAllAsync(prompts.SelectMany(p => Enumerable.Repeat(p, options.MaxVotes)).ToList(),
                    options.Temperature, simulator.JudgeMaxNewTokens, 1_000_003L * seed, cancellationToken: cancellationToken).ConfigureAwait(false);
                perSeed.Add(options.VoteSizes.Select(k => JudgmentScoring.Score(truth, cases.Select((c, i) =>
                    MajorityVote.Tally(samples.Skip(i * options.MaxVotes).Take(k).ToList(), Format, new VotingOptions(Samples: k), c.Response).Majority
                    ?? Verdict.Invalid).ToList())).ToList());
            }
            var greedyScore = JudgmentScoring.Score(truth, greedy);
            results.Add(new RefinerJudging(
                label,
                Stat([greedyScore]),
                options.VoteSizes.Select((_, v) => Stat(perSeed.Select(s => s[v]).ToList())).ToList(),
                [.. greedy.Select((v, i) => v != Verdict.Invalid && (v == Verdict.Yes) == truth[i])]));
        }
        return new JudgmentResult(options, results, clock.Elapsed.TotalSeconds);
    }

    private static JudgingStat Stat(IReadOnlyList<JudgmentScore> scores) => new(
        SeedStat.Of(scores.Select(s => s.Accuracy).ToList()),
        SeedStat.Of(scores.Select(s => s.F1).ToList()),
        SeedStat.Of(scores.Select(s => (double)s.Invalid / s.Cases).ToList()));
}
