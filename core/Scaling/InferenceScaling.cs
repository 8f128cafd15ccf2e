namespace SparOrleans.Core.Scaling;

/// <summary>
/// One generated response of a decoding strategy, in generation order: the model's own judge value V (share of Yes
/// votes; null when the judging gave no valid vote or the generation failed) and whether it truly follows its prompt.
/// </summary>
public sealed record ScoredCandidate(string Response, double? Value, bool Follows);

/// <summary>
/// Inference-time scaling (paper Figure 5): a strategy that generates responses one after another and keeps the one
/// its own judge rates highest. Because every generation's seed depends only on its place in the order, the answer
/// at budget b is the selection among the first b candidates of the run with the largest budget.
/// </summary>
public static class InferenceScaling
{
    /// <summary>The budgets a curve is measured at: 1, 2, 4, … up to <paramref name="max"/>, and <paramref name="max"/> itself.</summary>
    public static IReadOnlyList<int> Budgets(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var budgets = new List<int>();
        for (var b = 1; b < max; b *= 2)
        {
            budgets.Add(b);
        }
        budgets.Add(max);
        return budgets;
    }

    /// <summary>
    /// Index of the kept candidate among the first <paramref name="budget"/>: the highest judge value, the earliest
    /// on a tie; a candidate without a value ranks below every judged one; the first when none is judged.
    /// </summary>
    public static int Select(IReadOnlyList<ScoredCandidate> candidates, int budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("A strategy yields at least one candidate.", nameof(candidates));
        }
        var best = 0;
        for (var i = 1; i < Math.Min(budget, candidates.Count); i++)
        {
            if ((candidates[i].Value ?? -1) > (candidates[best].Value ?? -1))
            {
                best = i;
            }
        }
        return best;
    }

    /// <summary>Whether any of the first <paramref name="budget"/> candidates follows (the ceiling a perfect judge would reach).</summary>
    public static bool AnyFollows(IReadOnlyList<ScoredCandidate> candidates, int budget) =>
        candidates.Take(budget).Any(c => c.Follows);
}
