using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments.Tests;

/// <summary>
/// The paired tests against references we did not compute with this code: binomial tails summed by hand (exact
/// fractions), sign-flip counts enumerated by hand, Holm's table worked by hand, and Student's t from mpmath 1.3.0
/// (Debian python3-mpmath; scipy is not installed here): p = ½·I_{df/(df+t²)}(df/2, ½) with mp.betainc, the quantile
/// by mp.findroot on it, 30 digits. The textbook table gives t(0.975, 4) = 2.776 and t(0.975, 2) = 4.303.
/// </summary>
public sealed class PairedTestsTests
{
    [Fact]
    public void McNemar_TenAgainstTwoDiscordant_IsTheBinomialUpperTail()
    {
        // 10 cases only the new judge gets right, 2 only the old one, 8 both, 5 neither: P(X ≥ 10 | Bin(12, ½)) =
        // (C(12,10) + C(12,11) + C(12,12)) / 2^12 = (66 + 12 + 1) / 4096.
        var (after, before) = Cases(onlyAfter: 10, onlyBefore: 2, both: 8, neither: 5);

        var outcome = PairedTests.McNemar(after, before);

        Assert.Equal("McNemar exact", outcome.Test);
        Assert.Equal(25, outcome.N);
        Assert.Equal(79.0 / 4096, outcome.P!.Value, 12);
        Assert.Equal(8.0 / 25, outcome.Difference, 12);
        // Wald interval of a paired difference: se = sqrt(b + c − (b − c)² / n) / n.
        var se = Math.Sqrt(12 - 64.0 / 25) / 25;
        Assert.Equal(8.0 / 25 - 1.959963984540054 * se, outcome.Low!.Value, 9);
        Assert.Equal(8.0 / 25 + 1.959963984540054 * se, outcome.High!.Value, 9);
    }

    [Fact]
    public void McNemar_BalancedDiscordance_IsNoEvidence()
    {
        // P(X ≥ 3 | Bin(6, ½)) = (20 + 15 + 6 + 1) / 64.
        var (after, before) = Cases(onlyAfter: 3, onlyBefore: 3, both: 10, neither: 4);

        Assert.Equal(42.0 / 64, PairedTests.McNemar(after, before).P!.Value, 12);
    }

    [Fact]
    public void McNemar_FourHundredTwentyDiscordant_MatchesTheExactFractionSum()
    {
        // Σ_{k=230}^{420} C(420, k) / 2^420 in exact integer arithmetic (Python's math.comb and fractions): 0.028455278916812817.
        var (after, before) = Cases(onlyAfter: 230, onlyBefore: 190, both: 300, neither: 80);

        Assert.Equal(0.028455278916812817, PairedTests.McNemar(after, before).P!.Value, 12);
    }

    [Fact]
    public void McNemar_NoCaseOnlyTheNewJudgeGetsRight_PIsOne()
    {
        var (after, before) = Cases(onlyAfter: 0, onlyBefore: 4, both: 3, neither: 3);

        var outcome = PairedTests.McNemar(after, before);

        Assert.Equal(1.0, outcome.P);
        Assert.Equal(-0.4, outcome.Difference, 12);
    }

    [Fact]
    public void McNemar_DifferentCaseCounts_Refused() =>
        Assert.Throws<ArgumentException>(() => PairedTests.McNemar([true, false], [true]));

    [Fact]
    public void AcrossSeeds_FiveSeeds_MatchesMpmathStudentT()
    {
        // Differences 2, 5, −1, 3, 4 points: mean 2.6, sd 2.302, t = 2.5253 with 4 df.
        double[] higher = [0.52, 0.55, 0.49, 0.53, 0.54];
        double[] lower = [0.50, 0.50, 0.50, 0.50, 0.50];

        var outcome = PairedTests.AcrossSeeds(higher, lower);

        Assert.Equal("paired t", outcome.Test);
        Assert.Equal(5, outcome.N);
        Assert.Equal(0.026, outcome.Difference, 12);
        Assert.Equal(0.0324929551710603, outcome.P!.Value, 9);
        // mean ± t(0.975, 4) · sd/√5, t(0.975, 4) = 2.7764451051977935.
        Assert.Equal(-0.0025852519098702, outcome.Low!.Value, 9);
        Assert.Equal(0.0545852519098702, outcome.High!.Value, 9);
        // |d| = 2, 5, 1, 3, 4 (sum 15): a flipped set keeps the sum ≥ 13 only when it sums to ≤ 1: {} and {1}, 2 of 32.
        Assert.Equal(2.0 / 32, outcome.SignFlipP!.Value, 12);
    }

    [Fact]
    public void AcrossSeeds_ThreeSeedsTheOldRuleCalledBeyondTheNoise_HasPAboveFivePercent()
    {
        // Mean 2.5 points > sd 1.73: "beyond the noise" by the rule this replaced; t = 2.5 with 2 df, p = 0.0648 (mpmath).
        var outcome = PairedTests.AcrossSeeds([0.545, 0.515, 0.515], [0.5, 0.5, 0.5]);

        Assert.Equal(0.0648058601107554, outcome.P!.Value, 9);
        Assert.Equal(0.025 - 4.302652729749462 * 0.017320508075688773 / Math.Sqrt(3), outcome.Low!.Value, 9);
        // Three seeds: the smallest sign-flip p is 1/8.
        Assert.Equal(1.0 / 8, outcome.SignFlipP!.Value, 12);
        Assert.False(new Claim("c", outcome).Holds);
    }

    [Fact]
    public void AcrossSeeds_OneReferenceValue_ComparesEverySeedWithIt()
    {
        var broadcast = PairedTests.AcrossSeeds([0.52, 0.55, 0.49, 0.53, 0.54], [0.5]);

        Assert.Equal(PairedTests.AcrossSeeds([0.52, 0.55, 0.49, 0.53, 0.54], [0.5, 0.5, 0.5, 0.5, 0.5]), broadcast);
    }

    [Fact]
    public void AcrossSeeds_ConstantGainOnEverySeed_IsCertainAndAConstantLossIsNot()
    {
        var gain = PairedTests.AcrossSeeds([0.6, 0.7, 0.8, 0.6, 0.7], [0.5, 0.6, 0.7, 0.5, 0.6]);
        var loss = PairedTests.AcrossSeeds([0.5, 0.6, 0.7, 0.5, 0.6], [0.6, 0.7, 0.8, 0.6, 0.7]);

        Assert.Equal(0, gain.P!.Value);
        Assert.Equal(1.0 / 32, gain.SignFlipP!.Value, 12);
        Assert.Equal(1, loss.P!.Value);
    }

    [Fact]
    public void AcrossSeeds_OneSeed_HasNoTest()
    {
        var outcome = PairedTests.AcrossSeeds([0.6], [0.5]);

        Assert.Null(outcome.P);
        Assert.Equal(0.1, outcome.Difference, 12);
        Assert.Contains("no test with one seed", new Claim("c", outcome).Evidence());
    }

    [Fact]
    public void SignFlip_MoreThanTwentySeeds_SamplesCloseToTheNormalLimit()
    {
        // 30 differences of equal size, 20 positive: the exact p is P(Bin(30, ½) ≥ 20) = 0.0493685733526945 (math.comb).
        var differences = Enumerable.Range(0, 30).Select(i => i < 20 ? 1.0 : -1.0).ToList();

        // 2^20 draws: the sampled p is within ±0.001 (4.6 standard errors) of the exact one.
        Assert.InRange(PairedTests.SignFlip(differences), 0.0493685733526945 - 0.001, 0.0493685733526945 + 0.001);
    }

    [Fact]
    public void Holm_FourPValues_MatchesTheHandWorkedStepDown()
    {
        // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04, made monotone: 0.02, 0.03, 0.06, 0.06.
        var adjusted = PairedTests.Holm([0.01, 0.04, 0.03, 0.005, null]);

        Assert.Equal(5, adjusted.Count);
        Assert.Equal(0.03, adjusted[0]!.Value, 12);
        Assert.Equal(0.06, adjusted[1]!.Value, 12);
        Assert.Equal(0.06, adjusted[2]!.Value, 12);
        Assert.Equal(0.02, adjusted[3]!.Value, 12);
        Assert.Null(adjusted[4]);
    }

    [Fact]
    public void Holm_LargePValues_CappedAtOne() =>
        Assert.Equal([1.0, 1.0], PairedTests.Holm([0.6, 0.7]).Select(p => p!.Value));

    /// <summary>Per-case correctness of a new and an old judge with the given concordant and discordant counts.</summary>
    internal static (bool[] After, bool[] Before) Cases(int onlyAfter, int onlyBefore, int both, int neither) =>
        ([.. Enumerable.Repeat(true, onlyAfter), .. Enumerable.Repeat(false, onlyBefore), .. Enumerable.Repeat(true, both), .. Enumerable.Repeat(false, neither)],
         [.. Enumerable.Repeat(false, onlyAfter), .. Enumerable.Repeat(true, onlyBefore), .. Enumerable.Repeat(true, both), .. Enumerable.Repeat(false, neither)]);
}
