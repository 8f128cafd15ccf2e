using SparOrleans.Models.Generation;
using SparOrleans.Models.Search;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Scaling;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Grains.Training;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.World.Composition;

namespace SparOrleans.Experiments;

/// <summary>
/// Experiment 6 (paper Figure 5): held-out accuracy against the number of responses generated per prompt, for
/// best-of-N decoding (N actor samples, keep the one the refiner's vote rates highest) and tree-search refinement
/// decoding (the greedy answer, refined by a BFS tree search when the refiner's vote says it fails, keep the best
/// judged node). Defaults: 5 sampling seeds, <see cref="Prompts"/> 50 held-out prompts, up to
/// <see cref="MaxGenerations"/> 8 responses, <see cref="Votes"/> 3 judge samples per response for both strategies.
/// </summary>
public sealed record ScalingOptions(
    int Seeds = 5,
    int Prompts = 50,
    int MaxGenerations = 8,
    int Votes = 3,
    int BranchFactor = 3,
    int KeepBest = 2) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .InRange(nameof(Prompts), Prompts, 1, 500)
        .InRange(nameof(MaxGenerations), MaxGenerations, 2, 64)
        .InRange(nameof(Votes), Votes, 1, 15)
        .InRange(nameof(BranchFactor), BranchFactor, 1, 16)
        .InRange(nameof(KeepBest), KeepBest, 1, 16);

    public IReadOnlyList<int> Budgets => InferenceScaling.Budgets(MaxGenerations);
}

/// <summary>One strategy at one budget, over seeds: IFEval accuracies of the kept answers and the perfect-judge ceiling.</summary>
public sealed record ScalingPoint(int Generations, SeedStat PromptStrict, SeedStat InstructionStrict, SeedStat Average, SeedStat Oracle);

/// <summary>A strategy's curve and what it spent per prompt at the largest budget: responses, and refiner generations (judge samples and refinement attempts).</summary>
public sealed record ScalingCurve(string Strategy, IReadOnlyList<ScalingPoint> Points, SeedStat ResponsesPerPrompt, SeedStat RefinerGenerationsPerPrompt);

/// <param name="RootsJudgedFollowing">Share of greedy answers the refiner's vote passed (no tree search started).</param>
public sealed record ScalingResult(ScalingOptions Options, string Models, SeedStat Greedy, ScalingCurve BestOfN, ScalingCurve TreeSearch,
    SeedStat RootsJudgedFollowing, double Seconds);

public static class ScalingExperiment
{
    public const string BestOfN = "best-of-n", TreeSearchRefinement = "tree-search";

    private static readonly IRoleFormat Format = RoleFormats.Compact;

    public static async Task<ScalingResult> RunAsync(ScalingOptions options, string actorDir, string refinerDir, string models,
        SimulatorOptions simulator, Action<string> log, CancellationToken cancellationToken)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var prompts = Evaluation.HeldOutPrompts(options.Prompts, simulator.HeldOutSeed);
        var actor = new ModelRef(ModelRole.Actor, "experiment-actor", actorDir);
        var refiner = new ModelRef(ModelRole.Refiner, "experiment-refiner", refinerDir);
        await using var host = new ModelHost(new ModelHostOptions { Device = simulator.Device, MaxBatchSize = simulator.GenerationBatch },
            new CheckpointSync(null), NullLogger<ModelHost>.Instance);
        var sampling = RunOptions.Sampling(simulator);
        var voting = new VotingOptions(Samples: options.Votes);

        log($"greedy answers to {prompts.Count} held-out prompts");
        var greedyCalls = prompts.Select((p, i) => RoleCalls.Actor(Format, sampling with { ActorTemperature = 0 }, p.Text, i)).ToList();
        var greedy = (await host.GenerateAsync(actor, greedyCalls, cancellationToken)).Select(g => g.Text).ToList();

        var runs = new List<SeedRun>();
        for (var seed = 1; seed <= options.Seeds; seed++)
        {
            var counter = new Counter();
            GenerateTexts generate = async (role, calls, ct) =>
            {
                if (role == ModelRole.Refiner)
                {
                    counter.Add(calls.Count);
                }
                return (await host.GenerateAsync(role == ModelRole.Actor ? actor : refiner, calls, ct)).Select(g => g.Text).ToList();
            };
            log($"seed {seed}/{options.Seeds}: best-of-{options.MaxGenerations} (samples, {options.Votes} judge samples each)");
            var bon = await BestOfNAsync(prompts, sampling, voting, options, seed, generate, cancellationToken);
            var bonRefiner = counter.Take();
            log($"seed {seed}/{options.Seeds}: tree-search refinement of the greedy answers (up to {options.MaxGenerations - 1} refinements)");
            var (tree, rootsPassed) = await TreeSearchAsync(prompts, greedy, sampling, voting, options, seed, generate, cancellationToken);
            var treeRefiner = counter.Take();
            runs.Add(new SeedRun(bon, tree, bonRefiner / (double)prompts.Count, treeRefiner / (double)prompts.Count, rootsPassed / (double)prompts.Count));
            log($"seed {seed}/{options.Seeds} done after {clock.Elapsed.TotalSeconds:F0} s");
        }

        var greedyScore = Evaluation.ScoreActor(prompts, greedy);
        return new ScalingResult(
            options,
            models,
            SeedStat.Of([Average(greedyScore)]),
            Curve(BestOfN, prompts, options, runs.Select(r => r.BestOfN).ToList(), runs.Select(r => r.BestOfNRefiner).ToList()),
            Curve(TreeSearchRefinement, prompts, options, runs.Select(r => r.Tree).ToList(), runs.Select(r => r.TreeRefiner).ToList()),
            SeedStat.Of(runs.Select(r => r.RootsPassed).ToList()),
            clock.Elapsed.TotalSeconds);
    }

    private sealed record SeedRun(
        IReadOnlyList<IReadOnlyList<ScoredCandidate>> BestOfN, IReadOnlyList<IReadOnlyList<ScoredCandidate>> Tree,
        double BestOfNRefiner, double TreeRefiner, double RootsPassed);

    /// <summary>N samples per prompt, each judged with the same voting; candidates in sample order.</summary>
    private static async Task<IReadOnlyList<IReadOnlyList<ScoredCandidate>>> BestOfNAsync(IReadOnlyList<WorldPrompt> prompts,
        SamplingOptions sampling, VotingOptions voting, ScalingOptions options, int seed, GenerateTexts generate, CancellationToken ct)
    {
        var n = options.MaxGenerations;
        var calls = prompts.SelectMany((p, i) => Enumerable.Range(0, n)
            .Select(j => RoleCalls.Actor(Format, sampling, p.Text, RoleCalls.Seed(seed, "scaling-bon", i, j)))).ToList();
        var samples = await generate(ModelRole.Actor, calls, ct);
        var judgeCalls = samples.SelectMany((s, k) => Enumerable.Range(0, voting.Samples)
            .Select(v => RoleCalls.Judge(Format, sampling, prompts[k / n].Text, s, RoleCalls.Seed(seed, "scaling-bon-judge", k, v)))).ToList();
        var judgments = await generate(ModelRole.Refiner, judgeCalls, ct);
        return prompts.Select((p, i) => (IReadOnlyList<ScoredCandidate>)Enumerable.Range(0, n).Select(j =>
        {
            var k = i * n + j;
            var vote = MajorityVote.Tally(judgments.Skip(k * voting.Samples).Take(voting.Samples).ToList(), Format, voting, samples[k]);
            return new ScoredCandidate(samples[k], vote.Value, p.Follows(samples[k]));
        }).ToList()).ToList();
    }

    /// <summary>
    /// The greedy answer is judged; when its vote fails it (a No majority), a BFS tree search refines it with the
    /// remaining budget. Candidates: the root (its vote's value), then every node in creation order.
    /// </summary>
    private static async Task<(IReadOnlyList<IReadOnlyList<ScoredCandidate>> Candidates, int RootsPassed)> TreeSearchAsync(
        IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> greedy, SamplingOptions sampling, VotingOptions voting,
        ScalingOptions options, int seed, GenerateTexts generate, CancellationToken ct)
    {
        var search = new TreeSearchOptions(options.BranchFactor, options.KeepBest, MaxDepth: 16, MaxExpansions: options.MaxGenerations - 1);
        var passed = 0;
        var candidates = await Task.WhenAll(prompts.Select(async (p, i) =>
        {
            var environment = new ModelRefinementEnvironment(Format, sampling, generate, seed, $"scaling/{i}");
            var rootVote = await MajorityVote.JudgeAsync(
                (round, samples, token) => environment.JudgeAsync(new JudgeCall(p.Text, greedy[i], 0, round, samples), token),
                Format, voting, greedy[i], ct);
            var root = new ScoredCandidate(greedy[i], rootVote.Value, p.Follows(greedy[i]));
            if (rootVote.Majority != Verdict.No)
            {
                Interlocked.Increment(ref passed);
                return (IReadOnlyList<ScoredCandidate>)[root];
            }
            var start = TreeSearch.Start(SearchPolicyKind.Bfs, p.Text, greedy[i], rootVote.KeptJudgment!, search, voting);
            var end = await SearchRunner.RunAsync(start, environment, cancellationToken: ct);
            return [root, .. end.Nodes.Skip(1).Select(node => new ScoredCandidate(node.Response ?? "", node.Response is null ? null : node.Value,
                node.Response is { } r && p.Follows(r)))];
        }));
        return (candidates, passed);
    }

    private static ScalingCurve Curve(string strategy, IReadOnlyList<WorldPrompt> prompts, ScalingOptions options,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<ScoredCandidate>>> perSeed, IReadOnlyList<double> refinerGenerations)
    {
        var points = options.Budgets.Select(b =>
        {
            var scores = perSeed.Select(candidates => Evaluation.ScoreActor(prompts,
                candidates.Select(c => c[InferenceScaling.Select(c, b)].Response).ToList())).ToList();
            var oracle = perSeed.Select(candidates => candidates.Average(c => InferenceScaling.AnyFollows(c, b) ? 1.0 : 0.0)).ToList();
            return new ScalingPoint(b,
                SeedStat.Of(scores.Select(s => s.PromptStrict).ToList()),
                SeedStat.Of(scores.Select(s => s.InstructionStrict).ToList()),
                SeedStat.Of(scores.Select(Average).ToList()),
                SeedStat.Of(oracle));
        }).ToList();
        return new ScalingCurve(strategy, points,
            SeedStat.Of(perSeed.Select(candidates => candidates.Average(c => (double)c.Count)).ToList()),
            SeedStat.Of(refinerGenerations));
    }

    /// <summary>The IFEval average of the four accuracies (the paper's "Avg." column).</summary>
    private static double Average(ActorHeldOutScore s) => (s.PromptStrict + s.InstructionStrict + s.PromptLoose + s.InstructionLoose) / 4;

    private sealed class Counter
    {
        private long _count;

        public void Add(int n) => Interlocked.Add(ref _count, n);

        public long Take() => Interlocked.Exchange(ref _count, 0);
    }
}
