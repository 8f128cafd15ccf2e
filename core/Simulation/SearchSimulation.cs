using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Search;

namespace SparOrleans.Core.Simulation;

/// <summary>
/// Figures of one policy over many simulated roots. <see cref="SuccessRate"/>: share of roots whose search found a
/// winner that is truly correct; <see cref="WinnerRate"/>: share with any winner (a noisy judge can crown a flawed
/// response); expansions are refined children per search (the generation budget spent).
/// </summary>
public sealed record SimulationSummary(
    string Policy,
    double RefinerAccuracy,
    double JudgeAccuracy,
    int N,
    int Seed,
    double SuccessRate,
    double WinnerRate,
    double MeanExpansions,
    int MaxExpansions,
    double MeanWinnerDepth);

/// <summary>Runs a policy against the <see cref="SimulatedRefiner"/> for <c>n</c> independent roots.</summary>
public static class SearchSimulation
{
    /// <summary>Most roots one simulation draws: enough for tight figures in seconds; a mistyped count would run for hours.</summary>
    public const int MaxRoots = 100_000;

    public static async Task<SimulationSummary> RunAsync(
        SearchPolicyKind policy,
        SimulatedRefinerOptions refiner,
        int n,
        int seed,
        TreeSearchOptions? options = null,
        VotingOptions? voting = null,
        CancellationToken cancellationToken = default)
    {
        if (n is < 1 or > MaxRoots)
        {
            throw new Errors.UserInputException($"n must be between 1 and {MaxRoots} (got {n}).");
        }
        var format = new CompactFormat();
        var rootJudgment = format.RenderJudgment(new JudgmentContent([new ConstraintCheck("constraints", "one unmet", false)], false));
        int successes = 0, winners = 0, maxExpansions = 0;
        long expansions = 0, winnerDepths = 0;
        for (var root = 0; root < n; root++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var environment = new SimulatedRefiner(refiner, seed, root, format);
            var state = TreeSearch.Start(policy, $"instruction {root}", SimulatedRefiner.RootResponse(root), rootJudgment, options, voting);
            state = await SearchRunner.RunAsync(state, environment, cancellationToken: cancellationToken).ConfigureAwait(false);
            expansions += state.Expansions;
            maxExpansions = Math.Max(maxExpansions, state.Expansions);
            if (state.Winner is { } winner)
            {
                winners++;
                winnerDepths += winner.Depth;
                if (SimulatedRefiner.IsCorrect(winner.Response!))
                {
                    successes++;
                }
            }
        }
        return new SimulationSummary(
            PolicyName(policy), refiner.RefinerAccuracy, refiner.EffectiveJudgeAccuracy, n, seed,
            (double)successes / n, (double)winners / n, (double)expansions / n, maxExpansions,
            winners == 0 ? 0 : (double)winnerDepths / winners);
    }

    /// <summary>The CLI name of a policy: bfs, dfs, greedy, iterative, best-of-n.</summary>
    public static string PolicyName(SearchPolicyKind policy) => policy switch
    {
        SearchPolicyKind.BestOfN => "best-of-n",
        _ => policy.ToString().ToLowerInvariant(),
    };

    public static SearchPolicyKind ParsePolicy(string name)
    {
        foreach (var policy in Enum.GetValues<SearchPolicyKind>())
        {
            if (PolicyName(policy) == name.Trim().ToLowerInvariant())
            {
                return policy;
            }
        }
        throw new Errors.UserInputException($"Unknown policy '{name}': use bfs, dfs, greedy, iterative or best-of-n.");
    }
}
