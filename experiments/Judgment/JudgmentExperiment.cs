using System.Diagnostics;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using SparOrleans.Models.Evaluation;
using SparOrleans.Simulator;

namespace SparOrleans.Experiments;

/// <summary>
/// Experiment 5 (paper Tables 2 and 9): every refiner of one or more loop runs judges R_0's frozen evaluation set (M_0's
/// own samples on held-out prompts, labelled by the verifiers: the loop's distribution), greedily (Table 2) and, for
/// R_0 and the final refiner, by majority voting@k over the first k of <see cref="MaxVotes"/> samples at
/// <see cref="Temperature"/> (Table 9). The teacher cases are judged greedily and reported apart, never mixed in.
/// With several runs each run is one seed (one sampling seed each); with one run (or the bootstrap R_0), the
/// <see cref="Seeds"/> sampling seeds are the seeds.
/// </summary>
/// <param name="Seeds">Sampling seeds with one run or none; with several runs, one per run and this is unused.</param>
/// <param name="Cases">The first N cases of the frozen set; null: all of them.</param>
/// <param name="TeacherCases">Teacher cases (half teacher answers, half near misses) judged greedily apart; 0: none.</param>
public sealed record JudgmentOptions(
    int Seeds = 5,
    int? Cases = null,
    int TeacherCases = 60,
    int MaxVotes = 9,
    double Temperature = 0.7) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .Require(Cases is null or >= 1, $"{nameof(Cases)} must be at least 1 (got {Cases})")
        .InRange(nameof(TeacherCases), TeacherCases, 0, 2000)
        .Require(TeacherCases % 2 == 0, $"{nameof(TeacherCases)} must be even: half follow, half fail (got {TeacherCases})")
        .InRange(nameof(MaxVotes), MaxVotes, 1, 63)
        .Require(MaxVotes % 2 == 1, $"{nameof(MaxVotes)} must be odd (got {MaxVotes})")
        .InRange(nameof(Temperature), Temperature, 0.01, 5);

    /// <summary>The vote sizes measured: every odd k up to <see cref="MaxVotes"/>.</summary>
    public IReadOnlyList<int> VoteSizes => [.. Enumerable.Range(0, MaxVotes / 2 + 1).Select(i => 2 * i + 1)];

    /// <summary>Index in <see cref="VoteSizes"/> of voting@5, the loop's vote (the largest vote when fewer are measured).</summary>
    public int LoopVoteIndex => Math.Min(2, VoteSizes.Count - 1);
}

/// <summary>What was judged: the frozen set (after <see cref="JudgmentOptions.Cases"/>) and the teacher cases apart.</summary>
/// <param name="Count">Frozen cases judged.</param>
/// <param name="Following">Of them, how many follow their prompt (M_0's pass rate on them).</param>
/// <param name="Total">Cases in the stored frozen set.</param>
/// <param name="SampleTemperature">The temperature M_0 sampled the set's answers at.</param>
/// <param name="TeacherCount">Teacher cases judged greedily apart (0: none).</param>
public sealed record JudgedCases(int Count, int Following, int Total, double SampleTemperature, int TeacherCount)
{
    public double FollowingRate => Count == 0 ? 0 : (double)Following / Count;
}

/// <summary>
/// One seed of the measurement: a loop run (several runs: its sampling seed is its place in the list) or a sampling
/// seed of the one run. Lists are per refiner-T in iteration order; votes are in <see cref="JudgmentOptions.VoteSizes"/> order.
/// </summary>
/// <param name="Name">The run's folder name, or "sampling seed S" with one run.</param>
/// <param name="Greedy">Each refiner-T's greedy judgment of the frozen set, per case in <see cref="JudgmentScore.Correct"/> (refiner-0's is shared by every seed).</param>
/// <param name="Teacher">The same on the teacher cases; empty without them.</param>
/// <param name="StartVotes">R_0's majority voting@k on the frozen set at this seed's sampling seed.</param>
/// <param name="FinalVotes">The final refiner's (the same as <paramref name="StartVotes"/> with one refiner).</param>
public sealed record JudgmentSeed(string Name, long SamplingSeed, IReadOnlyList<JudgmentScore> Greedy, IReadOnlyList<JudgmentScore> Teacher,
    IReadOnlyList<JudgmentScore> StartVotes, IReadOnlyList<JudgmentScore> FinalVotes);

/// <param name="SeedsAreRuns">Whether each seed is a loop run (several runs) rather than a sampling seed of one run.</param>
public sealed record JudgmentResult(JudgmentOptions Options, JudgedCases Cases, bool SeedsAreRuns, IReadOnlyList<JudgmentSeed> Seeds, double Seconds)
{
    /// <summary>Refiners per seed: refiner-0 … refiner-T.</summary>
    public int Refiners => Seeds[0].Greedy.Count;

    public string Label(int iteration) => $"refiner-{iteration}";
}

/// <summary>A run to judge: its name and its refiner checkpoints in iteration order (refiner-0 first).</summary>
public sealed record JudgedRun(string Name, IReadOnlyList<string> Refiners);

public static class JudgmentExperiment
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    /// <summary>Sampling seed of seed number <paramref name="seed"/> (1-based): far enough apart that no two seeds share a sample's seed.</summary>
    public static long SamplingSeed(int seed) => 1_000_003L * seed;

    /// <summary>
    /// Judges the frozen set (and the teacher cases) with every refiner of <paramref name="runs"/>, one model loaded at
    /// a time. Greedy decoding is seed-independent, so each refiner is judged greedily once (R_0 once for all runs);
    /// voting draws <see cref="JudgmentOptions.MaxVotes"/> samples per case once per (refiner, sampling seed) and
    /// takes the first k of them for every vote size.
    /// </summary>
    public static async Task<JudgmentResult> RunAsync(JudgmentOptions options, IReadOnlyList<JudgedRun> runs, SimulatorOptions simulator,
        Action<string> log, CancellationToken cancellationToken = default)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var frozen = SharedFrozenSet(runs);
        var frozenCases = frozen.JudgeCases();
        frozenCases = options.Cases is { } n ? [.. frozenCases.Take(n)] : frozenCases;
        var teacherCases = options.TeacherCases > 0 ? Evaluation.TeacherJudgeCases(options.TeacherCases, simulator.HeldOutSeed) : [];
        var cases = new JudgedCases(frozenCases.Count, frozenCases.Count(c => c.Follows), frozen.Cases.Count, frozen.Temperature, teacherCases.Count);
        log(Inv($"frozen set: {cases.Count} of {cases.Total} cases, {100 * cases.FollowingRate:F1}% following; {cases.TeacherCount} teacher cases apart"));

        var truth = frozenCases.Select(c => c.Follows).ToList();
        var teacherTruth = teacherCases.Select(c => c.Follows).ToList();
        var frozenPrompts = frozenCases.Select(c => Format.JudgePrompt(c.Prompt.Text, c.Response)).ToList();
        var greedyPrompts = frozenPrompts.Concat(teacherCases.Select(c => Format.JudgePrompt(c.Prompt.Text, c.Response))).ToList();

        // The seeds: every run once, or the one run at each sampling seed.
        var seeds = runs.Count > 1
            ? runs.Select((r, i) => (Name: r.Name, Run: r, Sampling: SamplingSeed(i + 1))).ToList()
            : [.. Enumerable.Range(1, options.Seeds).Select(s => (Name: $"sampling seed {s}", Run: runs[0], Sampling: SamplingSeed(s)))];
        var refiners = runs[0].Refiners.Count;
        var voteJobs = seeds.Count * (refiners > 1 ? 2 : 1);
        var greedyJobs = 1 + runs.Sum(r => r.Refiners.Count - 1);
        log(Inv($"{greedyJobs} greedy judgings of {greedyPrompts.Count} cases and {voteJobs} votings of {options.MaxVotes} samples × {frozenPrompts.Count} cases: {greedyJobs * greedyPrompts.Count + voteJobs * options.MaxVotes * frozenPrompts.Count} generations"));

        var greedy = new Dictionary<string, (JudgmentScore Frozen, JudgmentScore Teacher)>();
        var votes = new Dictionary<(string, long), IReadOnlyList<JudgmentScore>>();
        var done = 0;
        // R_0 is the same checkpoint in every run (checked above), so the first run's stands for all.
        string Key(JudgedRun run, int t) => t == 0 ? runs[0].Refiners[0] : run.Refiners[t];
        foreach (var run in runs)
        {
            for (var t = 0; t < refiners; t++)
            {
                var key = Key(run, t);
                var samplings = seeds.Where(s => s.Run == run && (t == 0 || t == refiners - 1)).Select(s => s.Sampling)
                    .Where(s => !votes.ContainsKey((key, s))).ToList();
                if (greedy.ContainsKey(key) && samplings.Count == 0)
                {
                    continue;
                }
                await using var refiner = SimulatorModels.Load(key, simulator);
                var label = runs.Count > 1 ? $"{run.Name} refiner-{t}" : $"refiner-{t}";
                if (!greedy.ContainsKey(key))
                {
                    log(Inv($"{label}: greedy judgments of {frozenPrompts.Count} frozen + {teacherCases.Count} teacher cases ({clock.Elapsed.TotalSeconds:F0} s)"));
                    var verdicts = (await refiner.GenerateAllAsync(greedyPrompts, 0, simulator.JudgeMaxNewTokens, simulator.Seed, cancellationToken: cancellationToken)
                        .ConfigureAwait(false)).Select(Format.ParseVerdict).ToList();
                    greedy[key] = (JudgmentScoring.Score(truth, verdicts.Take(truth.Count).ToList()), JudgmentScoring.Score(teacherTruth, verdicts.Skip(truth.Count).ToList()));
                }
                foreach (var sampling in samplings)
                {
                    done++;
                    log(Inv($"{label}: {options.MaxVotes} samples per case, sampling seed {sampling / SamplingSeed(1)} (voting {done}/{voteJobs}, {clock.Elapsed.TotalSeconds:F0} s)"));
                    var samples = await refiner.GenerateAllAsync(frozenPrompts.SelectMany(p => Enumerable.Repeat(p, options.MaxVotes)).ToList(),
                        options.Temperature, simulator.JudgeMaxNewTokens, sampling, cancellationToken: cancellationToken).ConfigureAwait(false);
                    votes[(key, sampling)] = [.. options.VoteSizes.Select(k => JudgmentScoring.Score(truth, Evaluation.VoteVerdicts(frozenCases, samples, options.MaxVotes, k)))];
                }
            }
        }
        log(Inv($"judged in {clock.Elapsed.TotalSeconds:F0} s"));
        var judged = seeds.Select(s =>
        {
            var perRefiner = Enumerable.Range(0, refiners).Select(t => greedy[Key(s.Run, t)]).ToList();
            return new JudgmentSeed(s.Name, s.Sampling, [.. perRefiner.Select(g => g.Frozen)], teacherCases.Count > 0 ? [.. perRefiner.Select(g => g.Teacher)] : [],
                votes[(Key(s.Run, 0), s.Sampling)], votes[(Key(s.Run, refiners - 1), s.Sampling)]);
        }).ToList();
        return new JudgmentResult(options, cases, runs.Count > 1, judged, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The frozen set the runs share: every run's refiner-0 must carry the same <c>judge_eval.json</c> (the seeds of
    /// one experiment start from one bootstrap) and be the same checkpoint (R_0 is judged once for all); a clear error
    /// when one has none (a run from before frozen sets), when the sets differ, or when R_0 does.
    /// </summary>
    public static FrozenJudgeSet SharedFrozenSet(IReadOnlyList<JudgedRun> runs)
    {
        if (runs.Count == 0)
        {
            throw new ArgumentException("No run to judge.", nameof(runs));
        }
        foreach (var run in runs)
        {
            if (!File.Exists(Path.Combine(run.Refiners[0], FrozenJudgeSet.FileName)))
            {
                throw new UserInputException($"'{run.Refiners[0]}' has no {FrozenJudgeSet.FileName}: {run.Name} was bootstrapped before the frozen judge set existed; judge a run made since (`spar run`, `spar experiment baselines`).");
            }
        }
        var first = runs[0];
        foreach (var other in runs.Skip(1))
        {
            if (!SameFile(first.Refiners[0], other.Refiners[0], FrozenJudgeSet.FileName))
            {
                throw new UserInputException($"{first.Name} and {other.Name} have different frozen judge sets ({FrozenJudgeSet.FileName} of refiner-0): give the loop seeds of one experiment, which share one bootstrap.");
            }
            if (!SameFile(first.Refiners[0], other.Refiners[0], ModelCheckpoint.WeightsFile))
            {
                throw new UserInputException($"{first.Name} and {other.Name} start from different R_0 checkpoints (refiner-0/{ModelCheckpoint.WeightsFile}): give the loop seeds of one experiment, which share one bootstrap.");
            }
            if (other.Refiners.Count != first.Refiners.Count)
            {
                throw new UserInputException($"{first.Name} has {first.Refiners.Count} refiners but {other.Name} has {other.Refiners.Count}: give runs of the same number of iterations (finished ones).");
            }
        }
        return FrozenJudgeSet.Load(first.Refiners[0])!;
    }

    /// <summary>The run's refiner checkpoints in iteration order (refiner-0 first); a clear error when the folder holds none or lacks refiner-0.</summary>
    public static JudgedRun Run(string runDir)
    {
        var models = Path.Combine(runDir, "models");
        var found = Directory.Exists(models)
            ? Directory.GetDirectories(models, "refiner-*")
                .Select(d => (Dir: d, Ok: int.TryParse(Path.GetFileName(d)["refiner-".Length..], out var t), T: t))
                .Where(x => x.Ok && File.Exists(Path.Combine(x.Dir, ModelCheckpoint.ConfigFile)))
                .OrderBy(x => x.T)
                .ToList()
            : [];
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)));
        if (found.Count == 0)
        {
            throw new UserInputException($"'{runDir}' has no models/refiner-T checkpoints; give the folder of a run `spar run` finished (e.g. runs/run-1).");
        }
        return found[0].T == 0
            ? new JudgedRun(name, [.. found.Select(x => x.Dir)])
            : throw new UserInputException($"'{runDir}' has no models/refiner-0: the frozen set and the reference R_0 live there.");
    }

    private static bool SameFile(string dirA, string dirB, string file)
    {
        var (a, b) = (Path.Combine(dirA, file), Path.Combine(dirB, file));
        if (!File.Exists(a) || !File.Exists(b))
        {
            return File.Exists(a) == File.Exists(b);
        }
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        if (fa.Length != fb.Length)
        {
            return false;
        }
        Span<byte> ba = stackalloc byte[8192], bb = stackalloc byte[8192];
        int read;
        while ((read = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false)) > 0)
        {
            fb.ReadExactly(bb[..read]);
            if (!ba[..read].SequenceEqual(bb[..read]))
            {
                return false;
            }
        }
        return true;
    }

    private static string Inv(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
