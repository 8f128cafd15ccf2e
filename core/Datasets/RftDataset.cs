using SparOrleans.Core.Options;

namespace SparOrleans.Core.Datasets;

/// <summary>
/// Caps per source and Yes/No balance for the refiner's RFT set. Defaults are the reference's caps
/// (4000 / 1500 / 1000 / 500 / 2500, 9,500 in all); <see cref="ScaledTo"/> keeps those proportions for a smaller
/// world. With <see cref="BalanceYesNo"/> (default true) the surplus verdict side is trimmed until Yes judgments are
/// <see cref="YesShare"/> of them (default 0.5: as many Yes as No). Every cap ≥ 0; <see cref="Seed"/> drives the shuffles.
/// </summary>
public sealed record RftBalanceOptions(
    int MaxRefinements = 4000,
    int MaxTreeYes = 1500,
    int MaxTreeNo = 1000,
    int MaxInitialNo = 500,
    int MaxInitialYes = 2500,
    bool BalanceYesNo = true,
    int Seed = 0,
    double YesShare = 0.5) : IValidatedOptions
{
    private static readonly int[] ReferenceCaps = [4000, 1500, 1000, 500, 2500];

    /// <summary>Caps proportional to the reference's, summing to about <paramref name="total"/>.</summary>
    public static RftBalanceOptions ScaledTo(int total, bool balanceYesNo = true, int seed = 0, double yesShare = 0.5)
    {
        if (total < 0)
        {
            throw new InvalidOptionsException(nameof(RftBalanceOptions), [$"total must be at least 0 (got {total})"]);
        }
        var caps = ReferenceCaps.Select(c => (int)Math.Round((double)c * total / ReferenceCaps.Sum())).ToArray();
        return new RftBalanceOptions(caps[0], caps[1], caps[2], caps[3], caps[4], balanceYesNo, seed, yesShare);
    }

    public int Cap(RftSource source) => source switch
    {
        RftSource.Refinement => MaxRefinements,
        RftSource.TreeYes => MaxTreeYes,
        RftSource.TreeNo => MaxTreeNo,
        RftSource.InitialNo => MaxInitialNo,
        _ => MaxInitialYes,
    };

    public IEnumerable<string> Problems() => new ProblemList()
        .NonNegative(nameof(MaxRefinements), MaxRefinements)
        .NonNegative(nameof(MaxTreeYes), MaxTreeYes)
        .NonNegative(nameof(MaxTreeNo), MaxTreeNo)
        .NonNegative(nameof(MaxInitialNo), MaxInitialNo)
        .NonNegative(nameof(MaxInitialYes), MaxInitialYes)
        .Require(YesShare is > 0 and < 1, $"{nameof(YesShare)} must be between 0 and 1, both excluded (got {YesShare})");
}

/// <summary>
/// Fixed caps per source of the RFT set, in place of the reference's scaled to the iteration
/// (<see cref="RftBalanceOptions.ScaledTo"/>); a cap of 0 leaves a source out. The reference's proportions give the
/// actor's own samples few judgments (at 48 prompts an iteration, 10 initial-judging No of 192 examples); the
/// simulator's options can set other caps to measure that (simulator/README.md).
/// </summary>
public sealed record RftCaps(int Refinements, int TreeYes, int TreeNo, int InitialNo, int InitialYes) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .NonNegative(nameof(Refinements), Refinements)
        .NonNegative(nameof(TreeYes), TreeYes)
        .NonNegative(nameof(TreeNo), TreeNo)
        .NonNegative(nameof(InitialNo), InitialNo)
        .NonNegative(nameof(InitialYes), InitialYes);

    /// <summary>Balance options with these caps.</summary>
    public RftBalanceOptions Balance(int seed, double yesShare) =>
        new(Refinements, TreeYes, TreeNo, InitialNo, InitialYes, BalanceYesNo: true, Seed: seed, YesShare: yesShare);
}

/// <summary>The refiner's RFT set and how many examples each source gave.</summary>
public sealed record RftDataset(IReadOnlyList<SftExample> Examples, IReadOnlyDictionary<RftSource, int> Counts)
{
    public int YesJudgments => Examples.Count(e => e.IsYesJudgment);

    public int NoJudgments => Examples.Count(e => e.IsNoJudgment);
}

/// <summary>
/// Builds the RFT set as the reference does: shuffle each source, cap it, de-duplicate by the first turn in source
/// order (refinements first), then (unlike the reference, whose caps leave 4,000 Yes vs 1,500 No) bring Yes to
/// <see cref="RftBalanceOptions.YesShare"/> of the judgments by dropping the surplus side's last examples,
/// initial-judging ones before tree ones.
/// </summary>
public static class RftDatasetBuilder
{
    public static RftDataset Build(IEnumerable<SftExample> candidates, RftBalanceOptions? options = null)
    {
        options = (options ?? new RftBalanceOptions()).Validated();
        var random = new Random(options.Seed);
        var bySource = candidates.GroupBy(c => c.Source).ToDictionary(g => g.Key, g => g.ToList());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var kept = new Dictionary<RftSource, List<SftExample>>();
        foreach (var source in Enum.GetValues<RftSource>())
        {
            var items = bySource.TryGetValue(source, out var list) ? list.ToArray() : [];
            random.Shuffle(items);
            kept[source] = items.Take(options.Cap(source)).Where(e => seen.Add(e.Key)).ToList();
        }
        if (options.BalanceYesNo)
        {
            var yes = kept[RftSource.TreeYes].Count + kept[RftSource.InitialYes].Count;
            var no = kept[RftSource.TreeNo].Count + kept[RftSource.InitialNo].Count;
            // The most of each side that keeps Yes at YesShare of the judgments; at 0.5 both are min(yes, no).
            var share = options.YesShare;
            Trim(kept, RftSource.TreeYes, RftSource.InitialYes, Math.Min(yes, (int)Math.Floor(no * share / (1 - share) + 1e-9)));
            Trim(kept, RftSource.TreeNo, RftSource.InitialNo, Math.Min(no, (int)Math.Floor(yes * (1 - share) / share + 1e-9)));
        }
        var examples = kept.Values.SelectMany(l => l).ToArray();
        random.Shuffle(examples);
        return new RftDataset(examples, kept.ToDictionary(k => k.Key, k => k.Value.Count));
    }

    private static void Trim(Dictionary<RftSource, List<SftExample>> kept, RftSource tree, RftSource initial, int target)
    {
        var surplus = kept[tree].Count + kept[initial].Count - target;
        var fromInitial = Math.Min(surplus, kept[initial].Count);
        kept[initial].RemoveRange(kept[initial].Count - fromInitial, fromInitial);
        surplus -= fromInitial;
        kept[tree].RemoveRange(kept[tree].Count - surplus, surplus);
    }
}
