using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;

using SparOrleans.Core.Simulation;
using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments;

/// <summary>
/// Experiment 4 (paper Table 10): the refinement strategies at equal budget against the <see cref="SimulatedRefiner"/>.
/// Defaults: <see cref="N"/> 200 roots per seed (the paper's 200 held-out negatives; 1–100000), <see cref="Seeds"/> 5
/// (1–100), <see cref="RefinerAccuracy"/> 0.7 (≈ the paper's greedy Acc-GPT 69.5: one refinement fixes 7 in 10),
/// <see cref="JudgeAccuracy"/> 0.68 (≈ SPaR-8B-RFT-iter3's point-wise LLMBar accuracy, Table 2), <see cref="Budget"/>
/// 15 refinements (BFS with branch 3, keep 2, depth 3 spends at most 15; greedy spends 1, as in the paper),
/// <see cref="Votes"/> 5 judge samples per vote (majority voting@5) with 3 tie re-judges.
/// </summary>
public sealed record StrategyExperimentOptions(
    int N = 200,
    int Seeds = 5,
    double RefinerAccuracy = 0.7,
    double JudgeAccuracy = 0.68,
    int Budget = 15,
    int Votes = 5) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(N), N, 1, SearchSimulation.MaxRoots)
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .InRange(nameof(RefinerAccuracy), RefinerAccuracy, 0, 1)
        .InRange(nameof(JudgeAccuracy), JudgeAccuracy, 0, 1)
        .InRange(nameof(Budget), Budget, 1, 1000)
        .InRange(nameof(Votes), Votes, 1, 64);

    public SimulatedRefinerOptions Refiner => new(RefinerAccuracy, JudgeAccuracy);

    public TreeSearchOptions Search => new(MaxExpansions: Budget);

    public VotingOptions Voting => VotingOptions.TreeSearch with { Samples = Votes };
}

/// <summary>
/// One strategy's figures. Each search's output is its winner, else its best judged refinement, else the root.
/// <see cref="StrongJudge"/>: share of outputs truly correct (the verifiers; the paper's GPT-4o "Acc-GPT").
/// <see cref="SelfJudgeOwnVote"/>: share the refiner's own vote in the search called Yes (a self-judge that repeats
/// its judgment of a text, so its errors are the ones the search selected for: the self-evaluation bias of Table 3).
/// <see cref="SelfJudgeFreshVote"/>: share a fresh, independent vote of the same judge calls Yes.
/// </summary>
public sealed record StrategyResult(string Policy, SeedStat StrongJudge, SeedStat SelfJudgeOwnVote, SeedStat SelfJudgeFreshVote,
    SeedStat MeanExpansions);

/// <summary>The whole experiment: every strategy over every seed.</summary>
public sealed record StrategyExperimentResult(StrategyExperimentOptions Options, IReadOnlyList<StrategyResult> Strategies, double Seconds);

/// <summary>Runs <see cref="StrategyExperimentOptions"/>: seeds 0 … Seeds−1, the same roots and draws for every strategy.</summary>
public static class StrategyExperiment
{
    /// <summary>The strategies in Table 10's row order.</summary>
    public static IReadOnlyList<SearchPolicyKind> Policies { get; } =
        [SearchPolicyKind.Greedy, SearchPolicyKind.BestOfN, SearchPolicyKind.Iterative, SearchPolicyKind.Bfs, SearchPolicyKind.Dfs];

    // A fresh vote uses node ids no search reaches, so its draws are independent of the search's.
    private const int FreshVoteNodeOffset = 1_000_000;

    public static async Task<StrategyExperimentResult> RunAsync(StrategyExperimentOptions options, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options.Validated();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var format = new CompactFormat();
        var rootJudgment = format.RenderJudgment(new JudgmentContent([new ConstraintCheck("constraints", "one unmet", false)], false));
        var results = new List<StrategyResult>();
        foreach (var policy in Policies)
        {
            var strong = new List<double>();
            var own = new List<double>();
            var fresh = new List<double>();
            var expansions = new List<double>();
            for (var seed = 0; seed < options.Seeds; seed++)
            {
                int correct = 0, ownYes = 0, freshYes = 0;
                long spent = 0;
                for (var root = 0; root < options.N; root++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var environment = new SimulatedRefiner(options.Refiner, DrawSeed(seed), root, format);
                    var state = TreeSearch.Start(policy, $"instruction {root}", SimulatedRefiner.RootResponse(root), rootJudgment,
                        options.Search, options.Voting);
                    state = await SearchRunner.RunAsync(state, environment, cancellationToken: cancellationToken).ConfigureAwait(false);
                    spent += state.Expansions;
                    var output = Output(state);
                    correct += SimulatedRefiner.IsCorrect(output.Response!) ? 1 : 0;
                    ownYes += output.Vote?.Majority == Verdict.Yes ? 1 : 0;
                    var vote = await MajorityVote.JudgeAsync(
                        (round, samples, ct) => environment.JudgeAsync(
                            new JudgeCall(state.Instruction, output.Response!, FreshVoteNodeOffset + output.Id, round, samples), ct),
                        format, options.Voting, output.Response!, cancellationToken).ConfigureAwait(false);
                    freshYes += vote.Majority == Verdict.Yes ? 1 : 0;
                }
                strong.Add((double)correct / options.N);
                own.Add((double)ownYes / options.N);
                fresh.Add((double)freshYes / options.N);
                expansions.Add((double)spent / options.N);
            }
            var result = new StrategyResult(SearchSimulation.PolicyName(policy), SeedStat.Of(strong), SeedStat.Of(own), SeedStat.Of(fresh),
                SeedStat.Of(expansions));
            results.Add(result);
            progress?.Report($"{result.Policy}: strong {result.StrongJudge.Mean:P1}, self {result.SelfJudgeOwnVote.Mean:P1}");
        }
        return new StrategyExperimentResult(options, results, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The refiner's seed for experiment seed <paramref name="seed"/>. <see cref="SimulatedRefiner"/> hashes
    /// (seed, root, …) with the seed xor-ed into the state the root index is xor-ed into next, so seeds 0, 1, 2 … on
    /// roots 0, 1, 2 … would only permute the same draws (seed 1 at root 0 = seed 0 at root 1); a mixed seed keeps
    /// the seeds' draws apart.
    /// </summary>
    public static int DrawSeed(int seed) => SparOrleans.Core.StableHash.Combine(seed, "strategy-experiment");

    /// <summary>What a search hands back: its winner, else its best judged refinement, else the root.</summary>
    public static SearchNode Output(SearchState state) =>
        state.Winner ?? (state.End?.BestId is { } best ? state.Nodes[best] : state.Root);
}
