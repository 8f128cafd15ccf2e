namespace SparOrleans.Experiments.Statistics;

/// <summary>Mean and sample standard deviation (0 for one value) of a figure over seeds, with the per-seed values.</summary>
public sealed record SeedStat(double Mean, double Std, IReadOnlyList<double> PerSeed)
{
    public static SeedStat Of(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        var std = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new SeedStat(mean, std, values);
    }
}
