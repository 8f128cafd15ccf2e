using System.Globalization;

namespace SparOrleans.Experiments.Statistics;

/// <summary>
/// One claim of the paper tested in our numbers: what it says, the test's outcome, and Holm's adjusted p within the
/// report it belongs to. It holds when the one-sided p is below <see cref="PairedTests.Alpha"/>.
/// </summary>
/// <param name="Statement">The claim in words, e.g. "SPaR ends above SELF".</param>
/// <param name="HolmP">Holm's adjustment of <see cref="TestOutcome.P"/> over the claims of the same report (<see cref="Claims.Family"/>).</param>
public sealed record Claim(string Statement, TestOutcome Outcome, double? HolmP = null)
{
    /// <summary>Whether the claim's direction holds at one-sided p &lt; 0.05 (unadjusted; <see cref="HolmP"/> is reported beside it).</summary>
    public bool Holds => Outcome.P is { } p && p < PairedTests.Alpha;

    /// <summary>A test across fewer than <see cref="PairedTests.MinimumSeeds"/> seeds: too few to find a real effect reliably.</summary>
    public bool Underpowered => Outcome.Test != McNemarTest && Outcome.N < PairedTests.MinimumSeeds;

    /// <summary>"reproduced" or "not reproduced", as results.md marks a claim.</summary>
    public string Verdict => Holds ? "reproduced" : "not reproduced";

    private const string McNemarTest = "McNemar exact";

    /// <summary>Tests <paramref name="higher"/> &gt; <paramref name="lower"/>, measured on the same seeds (one value per seed each, or one reference value).</summary>
    public static Claim AcrossSeeds(string statement, SeedStat higher, SeedStat lower) =>
        new(statement, PairedTests.AcrossSeeds(higher.PerSeed, lower.PerSeed));

    /// <summary>Tests that judge <paramref name="higher"/> is right more often than <paramref name="lower"/> on the same cases.</summary>
    public static Claim McNemar(string statement, IReadOnlyList<bool> higher, IReadOnlyList<bool> lower) =>
        new(statement, PairedTests.McNemar(higher, lower));

    /// <summary>
    /// The evidence as a report states it, differences in percentage points, e.g. "paired t over 5 seeds: +2.3 points,
    /// 95% CI [+0.4, +4.2], one-sided p = 0.012; sign-flip p = 0.031; Holm p = 0.048".
    /// </summary>
    public string Evidence()
    {
        var o = Outcome;
        var over = o.Test == McNemarTest ? $"{o.N} cases" : $"{o.N} seed{(o.N == 1 ? "" : "s")}";
        if (o.P is not { } p)
        {
            return Inv($"{o.Test} over {over}: {Points(o.Difference)} points, no test with one seed");
        }
        var text = Inv($"{o.Test} over {over}: {Points(o.Difference)} points, 95% CI [{Points(o.Low!.Value)}, {Points(o.High!.Value)}], one-sided p {P(p)}");
        if (o.SignFlipP is { } flip)
        {
            text += Inv($"; sign-flip p {P(flip)}");
        }
        if (HolmP is { } holm)
        {
            text += Inv($"; Holm p {P(holm)}");
        }
        return Underpowered ? text + Inv($"; under {PairedTests.MinimumSeeds} seeds: underpowered") : text;
    }

    /// <summary>A results.md line: "- STATEMENT: **reproduced** (evidence)."</summary>
    public string Line() => $"- {Statement}: **{Verdict}** ({Evidence()}).";

    private static string Points(double fraction) => Inv($"{100 * fraction:+0.0;−0.0;0.0}");

    // "= 0.032", or "< 0.001" where three decimals would read as 0.
    private static string P(double p) => p < 0.001 ? "< 0.001" : Inv($"= {p:0.000}");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A report's claims as one family.</summary>
public static class Claims
{
    /// <summary>The claims with Holm's adjusted p over all of them (the family of one report).</summary>
    public static IReadOnlyList<Claim> Family(IEnumerable<Claim> claims)
    {
        var list = claims.ToList();
        var adjusted = PairedTests.Holm([.. list.Select(c => c.Outcome.P)]);
        return [.. list.Select((c, i) => c with { HolmP = adjusted[i] })];
    }

    /// <summary>A stderr warning when any claim rests on fewer than the minimum seeds; null when none does.</summary>
    public static string? UnderpoweredWarning(IEnumerable<Claim> claims) =>
        claims.Where(c => c.Underpowered).Select(c => c.Outcome.N).DefaultIfEmpty(int.MaxValue).Min() is var n && n != int.MaxValue
            ? $"warning: claims tested over {n} seed{(n == 1 ? "" : "s")}; at least {PairedTests.MinimumSeeds} are needed for a claim (--seeds {PairedTests.MinimumSeeds})"
            : null;
}
