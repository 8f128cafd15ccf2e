using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace SparOrleans.Experiments.Statistics;

/// <summary>
/// The outcome of a one-sided test that one paired measurement is above another.
/// </summary>
/// <param name="Test">The test's name as a report states it (e.g. "paired t", "McNemar exact").</param>
/// <param name="N">Pairs: seeds for a test across seeds, cases for McNemar.</param>
/// <param name="Difference">Mean of higher − lower (per seed), or the accuracy difference (McNemar), as a fraction.</param>
/// <param name="P">One-sided p of "higher > lower"; null when the test cannot be computed (one seed).</param>
/// <param name="Low">Lower end of the two-sided 95% interval of <paramref name="Difference"/>; null with <paramref name="P"/>.</param>
/// <param name="High">Upper end of that interval.</param>
/// <param name="SignFlipP">For tests across seeds, the exact sign-flip test's one-sided p on the same differences.</param>
public sealed record TestOutcome(string Test, int N, double Difference, double? P, double? Low, double? High, double? SignFlipP = null);

/// <summary>
/// Paired one-sided tests for the experiments' claims. Distributions come from MathNet.Numerics; the tests themselves
/// are a few lines each and checked against hand-worked cases and mpmath (tests/SparOrleans.Experiments.Tests).
/// </summary>
public static class PairedTests
{
    /// <summary>The level every claim is tested at (one-sided).</summary>
    public const double Alpha = 0.05;

    /// <summary>Seeds below which a claim across seeds is reported as underpowered: with 4 the sign-flip test cannot reach p &lt; 0.05.</summary>
    public const int MinimumSeeds = 5;

    // Beyond this many seeds the 2^n sign vectors are sampled instead of enumerated.
    private const int ExactSignFlipLimit = 20;
    private const int SignFlipDraws = 1 << 20;

    /// <summary>
    /// McNemar's exact test that judge <paramref name="higher"/> is right more often than judge <paramref name="lower"/>
    /// on the same cases: under the null a discordant case is equally likely either way, so the number of cases only
    /// <paramref name="higher"/> gets right is Binomial(discordant, 1/2); p is its upper tail. The interval is the
    /// Wald interval of the paired accuracy difference (the exact test decides the verdict, the interval shows size).
    /// </summary>
    public static TestOutcome McNemar(IReadOnlyList<bool> higher, IReadOnlyList<bool> lower)
    {
        if (higher.Count != lower.Count || higher.Count == 0)
        {
            throw new ArgumentException($"McNemar needs the same non-empty cases for both judges (got {higher.Count} and {lower.Count}).");
        }
        var n = higher.Count;
        var onlyHigher = higher.Zip(lower).Count(x => x.First && !x.Second);
        var onlyLower = higher.Zip(lower).Count(x => !x.First && x.Second);
        var discordant = onlyHigher + onlyLower;
        var difference = (double)(onlyHigher - onlyLower) / n;
        // P(X >= b) for X ~ Bin(m, 1/2) is the regularized incomplete beta I_{1/2}(b, m - b + 1), without 1 − CDF's cancellation.
        var p = onlyHigher == 0 ? 1.0 : SpecialFunctions.BetaRegularized(onlyHigher, discordant - onlyHigher + 1, 0.5);
        var se = Math.Sqrt(Math.Max(0, discordant - (double)(onlyHigher - onlyLower) * (onlyHigher - onlyLower) / n)) / n;
        var z = Normal.InvCDF(0, 1, 0.975);
        return new TestOutcome("McNemar exact", n, difference, p, difference - z * se, difference + z * se);
    }

    /// <summary>
    /// The paired t test across seeds that <paramref name="higher"/> is above <paramref name="lower"/> (one value per
    /// seed, same seeds), with its 95% t interval, and the exact sign-flip test on the same differences. A
    /// <paramref name="lower"/> of one value is a deterministic reference (e.g. greedy decoding) compared with every seed.
    /// </summary>
    public static TestOutcome AcrossSeeds(IReadOnlyList<double> higher, IReadOnlyList<double> lower)
    {
        var differences = Differences(higher, lower);
        var n = differences.Count;
        var mean = differences.Average();
        if (n < 2)
        {
            return new TestOutcome("paired t", n, mean, null, null, null);
        }
        var sd = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (n - 1));
        var signFlip = SignFlip(differences);
        // Identical differences on every seed leave t undefined: a constant gain is as certain as the data can make it,
        // a constant loss or no change is no evidence for the claim.
        if (sd < 1e-12 * Math.Max(1, Math.Abs(mean)))
        {
            return new TestOutcome("paired t", n, mean, mean > 0 ? 0 : 1, mean, mean, signFlip);
        }
        var se = sd / Math.Sqrt(n);
        var t = mean / se;
        var p = 1 - StudentT.CDF(0, 1, n - 1, t);
        var half = StudentT.InvCDF(0, 1, n - 1, 0.975) * se;
        return new TestOutcome("paired t", n, mean, p, mean - half, mean + half, signFlip);
    }

    /// <summary>
    /// The exact sign-flip (permutation) test's one-sided p that the differences' mean is above 0: the share of the
    /// 2^n sign assignments of |d| whose sum reaches the observed sum (the observed one included, so p ≥ 2^−n).
    /// Above 20 seeds the assignments are sampled (2^20 draws, fixed seed).
    /// </summary>
    public static double SignFlip(IReadOnlyList<double> differences)
    {
        var n = differences.Count;
        if (n == 0)
        {
            throw new ArgumentException("The sign-flip test needs at least one difference.");
        }
        var observed = differences.Sum();
        var magnitudes = differences.Select(Math.Abs).ToArray();
        // Sums of the same values in another order differ by rounding only; that must not move a tie below the observed sum.
        var tolerance = 1e-9 * Math.Max(1, magnitudes.Sum());
        long atLeast = 0, total;
        if (n <= ExactSignFlipLimit)
        {
            total = 1L << n;
            for (long mask = 0; mask < total; mask++)
            {
                if (SignedSum(magnitudes, mask) >= observed - tolerance)
                {
                    atLeast++;
                }
            }
        }
        else
        {
            total = SignFlipDraws;
            var random = new Random(20261206);
            for (var draw = 0; draw < total; draw++)
            {
                var sum = 0.0;
                foreach (var m in magnitudes)
                {
                    sum += random.Next(2) == 0 ? m : -m;
                }
                if (sum >= observed - tolerance)
                {
                    atLeast++;
                }
            }
            // The observed assignment counts once, as in the exact test, so a sampled p is never 0.
            (atLeast, total) = (atLeast + 1, total + 1);
        }
        return (double)atLeast / total;
    }

    /// <summary>
    /// Holm's step-down adjustment of a family's p values (same order as given; null stays null): the i-th smallest p
    /// times the number of hypotheses not yet rejected, made monotone and capped at 1. Controls the family-wise error.
    /// </summary>
    public static IReadOnlyList<double?> Holm(IReadOnlyList<double?> pValues)
    {
        var tested = pValues.Select((p, i) => (P: p, Index: i)).Where(x => x.P is not null).OrderBy(x => x.P).ToList();
        var adjusted = new double?[pValues.Count];
        var running = 0.0;
        for (var rank = 0; rank < tested.Count; rank++)
        {
            running = Math.Max(running, Math.Min(1, (tested.Count - rank) * tested[rank].P!.Value));
            adjusted[tested[rank].Index] = running;
        }
        return adjusted;
    }

    /// <summary>Per-seed <paramref name="higher"/> − <paramref name="lower"/>; one lower value stands for every seed.</summary>
    public static IReadOnlyList<double> Differences(IReadOnlyList<double> higher, IReadOnlyList<double> lower)
    {
        if (higher.Count == 0 || (lower.Count != higher.Count && lower.Count != 1))
        {
            throw new ArgumentException($"Paired figures need one value per seed on both sides, or one reference value (got {higher.Count} and {lower.Count}).");
        }
        return [.. higher.Select((h, i) => h - lower[lower.Count == 1 ? 0 : i])];
    }

    private static double SignedSum(double[] magnitudes, long mask)
    {
        var sum = 0.0;
        for (var i = 0; i < magnitudes.Length; i++)
        {
            sum += (mask & (1L << i)) != 0 ? -magnitudes[i] : magnitudes[i];
        }
        return sum;
    }
}
