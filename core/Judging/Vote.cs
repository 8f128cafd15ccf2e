using System.Text.Json.Serialization;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Judging;

/// <summary>
/// The outcome of one response's judging: the samples of the deciding round, their verdicts, the majority (null on
/// a tie, which includes all-invalid), the node value V = #Yes/(#Yes+#No) (null when no valid sample), and the kept
/// judgment (one agreeing with the majority). <see cref="Rounds"/> counts judging rounds (1 + re-judges).
/// </summary>
public sealed record Vote(
    IReadOnlyList<string> Samples,
    IReadOnlyList<Verdict> Verdicts,
    int Yes,
    int No,
    int Invalid,
    Verdict? Majority,
    double? Value,
    int? KeptIndex,
    int Rounds)
{
    [JsonIgnore]
    public bool IsTie => Majority is null;

    /// <summary>Both Yes and No among the samples: the votes whose majority judgment is RFT data.</summary>
    [JsonIgnore]
    public bool IsNonUnanimous => Yes > 0 && No > 0;

    /// <summary>A majority with no dissent: every valid sample gave the same verdict.</summary>
    [JsonIgnore]
    public bool IsUnanimous => !IsTie && !IsNonUnanimous;

    [JsonIgnore]
    public string? KeptJudgment => KeptIndex is { } i ? Samples[i] : null;

    /// <summary>A sample that disagrees with the majority (the first), for judge-preference pairs; null when none.</summary>
    [JsonIgnore]
    public string? DissentingJudgment
    {
        get
        {
            if (Majority is not { } majority)
            {
                return null;
            }
            var other = majority == Verdict.Yes ? Verdict.No : Verdict.Yes;
            for (var i = 0; i < Verdicts.Count; i++)
            {
                if (Verdicts[i] == other)
                {
                    return Samples[i];
                }
            }
            return null;
        }
    }
}
