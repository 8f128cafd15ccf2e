using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;

namespace SparOrleans.Core.Tests.Search;

/// <summary>
/// A deterministic refiner for tests: <c>refine</c> gives the refined text of a call (null = omit the markers),
/// <c>judge</c> gives one verdict letter per sample (y, n, anything else = invalid) for a response. Counts calls.
/// </summary>
internal sealed class ScriptedEnvironment(Func<RefineCall, string?> refine, Func<JudgeCall, string> judge) : IRefinementEnvironment
{
    private int _refines;
    private int _judges;

    public IRoleFormat Format { get; } = new CompactFormat();

    public int RefineCalls => _refines;

    public int JudgeCalls => _judges;

    public Task<string> RefineAsync(RefineCall call, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _refines);
        var text = refine(call);
        return Task.FromResult(text is null ? "revise\nno markers" : Format.RenderRefinement("revise", text));
    }

    public Task<IReadOnlyList<string>> JudgeAsync(JudgeCall call, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _judges);
        var letters = judge(call);
        Assert.Equal(call.Samples, letters.Length);
        return Task.FromResult<IReadOnlyList<string>>(letters.Select(l => l switch
        {
            'y' => "c: ok\n=> yes",
            'n' => "c: bad NO\n=> no",
            _ => "c: ?",
        }).ToArray());
    }

    /// <summary>Value of a response encoded in its text: "v3" → 3 Yes of 5.</summary>
    public static string VotesFromText(string response)
    {
        var yes = response.Split(' ').Where(w => w.StartsWith('v')).Select(w => int.Parse(w[1..], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        return new string('y', yes) + new string('n', 5 - yes);
    }
}
