using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments.Tests;

public sealed class ClaimTests
{
    private static SeedStat Seeds(params double[] values) => SeedStat.Of(values);

    [Fact]
    public void Line_FiveSeeds_StatesTestDifferenceIntervalPAndVerdict()
    {
        var claim = Claim.AcrossSeeds("SPaR ends above SELF", Seeds(0.52, 0.55, 0.49, 0.53, 0.54), Seeds(0.5, 0.5, 0.5, 0.5, 0.5));

        Assert.True(claim.Holds);
        Assert.Equal("- SPaR ends above SELF: **reproduced** (paired t over 5 seeds: +2.6 points, 95% CI [−0.3, +5.5], one-sided p = 0.032; sign-flip p = 0.063).",
            claim.Line());
        Assert.False(claim.Underpowered);
    }

    [Fact]
    public void Evidence_TinyP_ReadsAsBelowOneThousandth()
    {
        var claim = Claim.AcrossSeeds("c", Seeds(0.9, 0.91, 0.92, 0.9, 0.91), Seeds(0.5));

        Assert.Contains("one-sided p < 0.001; sign-flip p = 0.031", claim.Evidence());
    }

    [Fact]
    public void Family_AddsHolmAdjustedP_VerdictStaysAtTheUnadjustedP()
    {
        var strong = Claim.AcrossSeeds("a", Seeds(0.52, 0.55, 0.49, 0.53, 0.54), Seeds(0.5));
        var none = Claim.AcrossSeeds("b", Seeds(0.5, 0.49, 0.51, 0.5, 0.5), Seeds(0.5));

        var family = Claims.Family([strong, none]);

        Assert.Equal(Math.Min(1, 2 * strong.Outcome.P!.Value), family[0].HolmP!.Value, 12);
        Assert.True(family[0].Holds);
        Assert.Contains("Holm p = 0.065", family[0].Evidence());
        Assert.False(family[1].Holds);
    }

    [Fact]
    public void UnderpoweredWarning_ThreeSeeds_NamesTheSeedsNeeded()
    {
        var claim = Claim.AcrossSeeds("c", Seeds(0.6, 0.7, 0.65), Seeds(0.5, 0.5, 0.5));

        Assert.True(claim.Underpowered);
        Assert.EndsWith("under 5 seeds: underpowered", claim.Evidence());
        Assert.Equal("warning: claims tested over 3 seeds; at least 5 are needed for a claim (--seeds 5)", Claims.UnderpoweredWarning([claim]));
    }

    [Fact]
    public void UnderpoweredWarning_McNemarOrFiveSeeds_None()
    {
        var (after, before) = PairedTestsTests.Cases(onlyAfter: 3, onlyBefore: 1, both: 2, neither: 0);
        var claims = new[]
        {
            Claim.McNemar("judge", after, before),
            Claim.AcrossSeeds("c", Seeds(0.6, 0.7, 0.65, 0.6, 0.6), Seeds(0.5)),
        };

        Assert.Null(Claims.UnderpoweredWarning(claims));
        Assert.StartsWith("McNemar exact over 6 cases: +33.3 points", claims[0].Evidence());
    }
}
