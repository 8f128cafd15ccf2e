using System.Collections.Concurrent;
using System.Diagnostics;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Text;
using SparOrleans.Verifiers.IfEval.Scoring;
using SparOrleans.World.Benchmark;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator;

/// <summary>A response to judge and the verifiers' verdict on it; <see cref="Source"/> is teacher-answer, teacher-near-miss or actor.</summary>
public sealed record JudgeCase(WorldPrompt Prompt, string Response, bool Follows, string Source);

/// <summary>
/// The loop's evaluation of (M_t, R_t): the actor, the judge (greedy) on R_0's frozen set when <see cref="Frozen"/>
/// (else the teacher cases plus the actor's balanced cases), and the judge on the teacher cases alone.
/// </summary>
public sealed record LoopEvaluation(ActorHeldOutScore Actor, JudgmentScore Judge, JudgmentScore Teacher, bool Frozen);

/// <summary>A held-out near miss for the refiner, with the teacher's judgment text it is refined from.</summary>
public sealed record RefineCase(WorldPrompt Prompt, string Response, string Judgment);

/// <summary>
/// The evaluations of one (M_t, R_t): the actor on the held-out benchmark through the IFEval scorer, the refiner's
/// judgments against the verifiers (greedy and majority vote), and its refinement of held-out near misses.
/// The fixed case sets depend only on the options, so every iteration is measured on the same cases.
/// </summary>
public static class Evaluation
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;
    private static readonly ConcurrentDictionary<(int, int), IReadOnlyList<WorldPrompt>> HeldOutCache = new();

    /// <summary>Both models evaluated in turn (one loaded at a time).</summary>
    public static async Task<EvaluationReport> EvaluateAsync(string actorDir, string refinerDir, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (actor, judgeCases) = await ActorAndJudgeCasesAsync(actorDir, refinerDir, options, progress, cancellationToken).ConfigureAwait(false);
        await using var refiner = SimulatorModels.Load(refinerDir, options);
        var judgment = await EvaluateJudgeAsync(refiner, options, judgeCases.Cases, progress, cancellationToken, judgeCases.Frozen).ConfigureAwait(false);
        var refinement = await EvaluateRefinementAsync(refiner, options, progress, cancellationToken).ConfigureAwait(false);
        return new EvaluationReport(actor, judgment, refinement);
    }

    /// <summary>
    /// The loop's evaluation of (M_t, R_t): the actor's held-out scores and the refiner's greedy judgments, the figures a
    /// run's table reports: <see cref="LoopEvaluation.Judge"/> on R_0's frozen set when the refiner carries one (else the
    /// teacher cases plus balanced cases of the actor's answers), <see cref="LoopEvaluation.Teacher"/> on the teacher
    /// cases alone. The majority-vote and refinement evaluations of <see cref="EvaluateAsync"/> are left out: they
    /// generate several times more than the rest, and a run reports neither.
    /// </summary>
    public static async Task<LoopEvaluation> EvaluateLoopAsync(string actorDir, string refinerDir, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (actor, judgeCases) = await ActorAndJudgeCasesAsync(actorDir, refinerDir, options, progress, cancellationToken).ConfigureAwait(false);
        await using var refiner = SimulatorModels.Load(refinerDir, options);
        var greedy = await JudgeGreedyAsync(refiner, options, judgeCases.Cases, progress, cancellationToken).ConfigureAwait(false);
        var truth = greedy.Cases.Select(c => c.Follows).ToList();
        var t = greedy.Cases.Count - judgeCases.Cases.Count;
        var teacher = JudgmentScoring.Score(truth.Take(t).ToList(), greedy.Verdicts.Take(t).ToList());
        var judge = judgeCases.Frozen
            ? JudgmentScoring.Score(truth.Skip(t).ToList(), greedy.Verdicts.Skip(t).ToList())
            : JudgmentScoring.Score(truth, greedy.Verdicts);
        return new LoopEvaluation(actor, judge, teacher, judgeCases.Frozen);
    }

    /// <summary>
    /// The actor's held-out scores and the judge's cases beside the teacher's: the refiner's frozen set when it carries
    /// one, else cases drawn from the actor's answers (the actor is unloaded before the refiner loads).
    /// </summary>
    private static async Task<(ActorHeldOutScore Actor, (IReadOnlyList<JudgeCase> Cases, bool Frozen) JudgeCases)> ActorAndJudgeCasesAsync(
        string actorDir, string refinerDir, SimulatorOptions options, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        options.Validated();
        var frozen = FrozenJudgeSet.Load(refinerDir);
        await using var runner = SimulatorModels.Load(actorDir, options);
        var (actor, answers) = await EvaluateActorAsync(runner, options, progress, cancellationToken).ConfigureAwait(false);
        return frozen is not null
            ? (actor, (frozen.JudgeCases(), true))
            : (actor, (ActorJudgeCases(HeldOutPrompts(options.HeldOutCount, options.HeldOutSeed), answers, options.JudgeEvalActorCases, options.Seed), false));
    }

    /// <summary>The held-out prompts (cached: drawing held-out prompts is slow, 1 in 16 candidates qualifies).</summary>
    public static IReadOnlyList<WorldPrompt> HeldOutPrompts(int count, int seed) =>
        HeldOutCache.GetOrAdd((count, seed), k => SimBenchmark.HeldOut(k.Item1, k.Item2));

    /// <summary>Greedy answers to the held-out prompts, scored by the IFEval scorer; also returns the answers.</summary>
    public static async Task<(ActorHeldOutScore Score, IReadOnlyList<string> Answers)> EvaluateActorAsync(ModelRunner actor, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var prompts = HeldOutPrompts(options.HeldOutCount, options.HeldOutSeed);
        var answers = await actor.GenerateAllAsync(prompts.Select(p => Format.ActorPrompt(p.Text)).ToList(), 0, options.ActorMaxNewTokens,
            options.Seed, progress, "eval-actor", cancellationToken).ConfigureAwait(false);
        return (ScoreActor(prompts, answers, clock.Elapsed.TotalSeconds), answers);
    }

    /// <summary>IFEval accuracies of <paramref name="responses"/> (one per prompt, in order).</summary>
    public static ActorHeldOutScore ScoreActor(IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> responses, double seconds = 0)
    {
        if (prompts.Count != responses.Count)
        {
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses", nameof(responses));
        }
        var report = IfEvalScorer.Score(SimBenchmark.ToIfEval(prompts).Select((e, i) => (e, responses[i])));
        var a = report.Accuracies;
        return new ActorHeldOutScore(a.PromptStrict, a.InstructionStrict, a.PromptLoose, a.InstructionLoose, prompts.Count, seconds);
    }

    /// <summary>
    /// The fixed teacher cases: for held-out prompts (a set apart from the actor's), the teacher's answer (follows)
    /// and a near miss breaking one constraint (fails), <paramref name="count"/>/2 of each.
    /// </summary>
    public static IReadOnlyList<JudgeCase> TeacherJudgeCases(int count, int heldOutSeed)
    {
        var pairs = count / 2;
        var prompts = HeldOutPrompts(pairs + pairs / 4 + 8, WorldSeed.Mix(heldOutSeed, 1));
        var cases = new List<JudgeCase>(count);
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            if (cases.Count == 2 * pairs)
            {
                break;
            }
            if (Teacher.Flawed(p, 1, i) is { } flawed)
            {
                cases.Add(new JudgeCase(p, Teacher.Answer(p, i), true, "teacher-answer"));
                cases.Add(new JudgeCase(p, flawed.Response, false, "teacher-near-miss"));
            }
        }
        return cases.Count == 2 * pairs ? cases : throw new InvalidOperationException($"only {cases.Count / 2} held-out near misses for {pairs} asked");
    }

    /// <summary>Balanced cases from the actor's own answers: up to <paramref name="count"/>/2 following and as many failing.</summary>
    public static IReadOnlyList<JudgeCase> ActorJudgeCases(IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> answers, int count, int seed)
    {
        var labelled = prompts.Select((p, i) => new JudgeCase(p, answers[i], p.Follows(answers[i]), "actor")).ToList();
        var yes = labelled.Where(c => c.Follows).ToArray();
        var no = labelled.Where(c => !c.Follows).ToArray();
        var random = new Random(seed);
        random.Shuffle(yes);
        random.Shuffle(no);
        var n = Math.Min(count / 2, Math.Min(yes.Length, no.Length));
        return [.. yes.Take(n).Concat(no.Take(n))];
    }

    /// <summary>
    /// The refiner judges the teacher cases and <paramref name="actorCases"/>: greedy, then by majority vote. With
    /// <paramref name="frozen"/> the actor cases are a frozen set and are scored alone in the Frozen fields (greedy and
    /// vote, per case), else in <see cref="RefinerJudgmentScore.ActorCasesGreedy"/>.
    /// </summary>
    public static async Task<RefinerJudgmentScore> EvaluateJudgeAsync(ModelRunner refiner, SimulatorOptions options, IReadOnlyList<JudgeCase> actorCases,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, bool frozen = false)
    {
        var clock = Stopwatch.StartNew();
        var (cases, prompts, greedyVerdicts) = await JudgeGreedyAsync(refiner, options, actorCases, progress, cancellationToken).ConfigureAwait(false);
        var votePrompts = prompts.SelectMany(p => Enumerable.Repeat(p, options.EvalVotes)).ToList();
        var samples = await refiner.GenerateAllAsync(votePrompts, options.EvalVoteTemperature, options.JudgeMaxNewTokens, options.Seed + 7,
            progress, "eval-judge-vote", cancellationToken).ConfigureAwait(false);
        var voted = VoteVerdicts(cases, samples, options.EvalVotes, options.EvalVotes);
        var truth = cases.Select(c => c.Follows).ToList();
        var t = cases.Count - actorCases.Count;
        JudgmentScore Part(IReadOnlyList<Verdict> verdicts, bool teacher) => teacher
            ? JudgmentScoring.Score(truth.Take(t).ToList(), verdicts.Take(t).ToList())
            : JudgmentScoring.Score(truth.Skip(t).ToList(), verdicts.Skip(t).ToList());
        var hasActor = actorCases.Count > 0;
        return new RefinerJudgmentScore(
            JudgmentScoring.Score(truth, greedyVerdicts),
            JudgmentScoring.Score(truth, voted),
            Part(greedyVerdicts, teacher: true),
            hasActor && !frozen ? Part(greedyVerdicts, teacher: false) : null,
            options.EvalVotes,
            clock.Elapsed.TotalSeconds,
            Part(voted, teacher: true),
            hasActor && frozen ? Part(greedyVerdicts, teacher: false) : null,
            hasActor && frozen ? Part(voted, teacher: false) : null);
    }

    /// <summary>
    /// Each case's majority verdict over the first <paramref name="votes"/> of its <paramref name="perCase"/> samples
    /// (<paramref name="samples"/> laid out case by case); a tie or a vote without verdicts is <see cref="Verdict.Invalid"/>.
    /// </summary>
    public static IReadOnlyList<Verdict> VoteVerdicts(IReadOnlyList<JudgeCase> cases, IReadOnlyList<string> samples, int perCase, int votes)
    {
        var voting = new VotingOptions(Samples: votes).Validated();
        return cases.Select((c, i) => MajorityVote.Tally(samples.Skip(i * perCase).Take(votes).ToList(), Format, voting, c.Response).Majority ?? Verdict.Invalid)
            .ToList();
    }

    /// <summary>The fixed teacher cases, then <paramref name="actorCases"/> (the actor's or the frozen set's), with their judge prompts and the refiner's greedy verdicts.</summary>
    private static async Task<(IReadOnlyList<JudgeCase> Cases, IReadOnlyList<IReadOnlyList<ChatMessage>> Prompts, IReadOnlyList<Verdict> Verdicts)> JudgeGreedyAsync(
        ModelRunner refiner, SimulatorOptions options, IReadOnlyList<JudgeCase> actorCases, IProgress<StepProgress>? progress, CancellationToken cancellationToken)
    {
        var cases = TeacherJudgeCases(options.JudgeEvalCases, options.HeldOutSeed).Concat(actorCases).ToList();
        var prompts = cases.Select(c => Format.JudgePrompt(c.Prompt.Text, c.Response)).ToList();
        var greedy = await refiner.GenerateAllAsync(prompts, 0, options.JudgeMaxNewTokens, options.Seed, progress, "eval-judge", cancellationToken)
            .ConfigureAwait(false);
        return (cases, prompts, greedy.Select(Format.ParseVerdict).ToList());
    }

    /// <summary>The fixed refinement cases: held-out near misses (one or two broken constraints) and the teacher's judgment.</summary>
    public static IReadOnlyList<RefineCase> RefineCases(int count, int heldOutSeed)
    {
        var prompts = HeldOutPrompts(count + count / 4 + 8, WorldSeed.Mix(heldOutSeed, 2));
        var cases = new List<RefineCase>(count);
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            if (cases.Count == count)
            {
                break;
            }
            var violations = p.Level > 1 && i % 3 == 0 ? 2 : 1;
            if ((Teacher.Flawed(p, violations, i) ?? Teacher.Flawed(p, 1, i)) is { } flawed)
            {
                cases.Add(new RefineCase(p, flawed.Response, Format.RenderJudgment(Teacher.Judge(p, flawed.Response))));
            }
        }
        return cases.Count == count ? cases : throw new InvalidOperationException($"only {cases.Count} held-out near misses for {count} asked");
    }

    /// <summary>The refiner fixes each held-out near miss (greedy); success = the refinement parses and follows every constraint.</summary>
    public static async Task<RefinementScore> EvaluateRefinementAsync(ModelRunner refiner, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var cases = RefineCases(options.RefineEvalCases, options.HeldOutSeed);
        var outputs = await refiner.GenerateAllAsync(cases.Select(c => Format.RefinePrompt(c.Prompt.Text, c.Response, c.Judgment)).ToList(), 0,
            options.RefineMaxNewTokens, options.Seed, progress, "eval-refine", cancellationToken).ConfigureAwait(false);
        return ScoreRefinements(cases, outputs, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Success rate, parse rate and mean similarity (near miss → refinement) of refiner outputs.</summary>
    public static RefinementScore ScoreRefinements(IReadOnlyList<RefineCase> cases, IReadOnlyList<string> outputs, double seconds = 0)
    {
        var refined = outputs.Select(Format.ParseRefinement).ToList();
        var parsed = refined.Count(r => r is not null);
        var success = cases.Where((c, i) => refined[i] is { } r && c.Prompt.Follows(r)).Count();
        var similarity = parsed == 0 ? 0 : StringSimilarity.MeanRatio(cases.Select((c, i) => (c.Response, refined[i]))
            .Where(p => p.Item2 is not null).Select(p => (p.Response, p.Item2!)));
        double n = Math.Max(1, cases.Count);
        return new RefinementScore(cases.Count, success / n, parsed / n, similarity, seconds);
    }
}
