using SparOrleans.Core.Formats;

namespace SparOrleans.Models.Evaluation;

/// <summary>
/// Judging quality against the verifiers. The positive class is "follows" (a Yes verdict): in SPaR a false Yes
/// is the costly error (it crowns a wrong tree node as the chosen response), so precision and F1 are about Yes.
/// An invalid verdict (no parseable yes/no, or a tied vote) counts as wrong. <see cref="YesRecall"/> and
/// <see cref="NoRecall"/> are the accuracies on following and failing responses. The operating point:
/// <see cref="YesRate"/> (share of Yes verdicts) against <see cref="FollowingRate"/> (share of cases that follow); a
/// judge whose <see cref="Precision"/> is above <see cref="FollowingRate"/> makes a Yes worth more than the base rate.
/// <see cref="Correct"/> holds each case's correctness in case order, '1' right and '0' wrong (for paired tests such
/// as McNemar's; a string keeps the record's value equality and the JSON short).
/// </summary>
public sealed record JudgmentScore(int Cases, double Accuracy, double F1, double Precision, double YesRecall, double NoRecall, int Invalid,
    int YesVerdicts = 0, int Following = 0, string? Correct = null)
{
    public double YesRate => Cases == 0 ? 0 : (double)YesVerdicts / Cases;

    public double FollowingRate => Cases == 0 ? 0 : (double)Following / Cases;

    /// <summary>Each case's correctness as booleans, in case order (empty when not recorded).</summary>
    public IReadOnlyList<bool> CorrectCases() => Correct?.Select(c => c == '1').ToList() ?? [];
}

/// <summary>Judgments scored against the truth: accuracy and the Yes class's precision, recall and F1.</summary>
public static class JudgmentScoring
{
    /// <summary>Accuracy and Yes-class F1 of verdicts against the truth; an invalid verdict is always wrong.</summary>
    public static JudgmentScore Score(IReadOnlyList<bool> follows, IReadOnlyList<Verdict> verdicts)
    {
        if (follows.Count != verdicts.Count)
        {
            throw new ArgumentException($"{follows.Count} cases but {verdicts.Count} verdicts", nameof(verdicts));
        }
        int tp = 0, fp = 0, tn = 0, fn = 0, invalid = 0;
        var correct = new char[follows.Count];
        for (var i = 0; i < follows.Count; i++)
        {
            var v = verdicts[i];
            invalid += v == Verdict.Invalid ? 1 : 0;
            correct[i] = v == (follows[i] ? Verdict.Yes : Verdict.No) ? '1' : '0';
            if (follows[i])
            {
                tp += v == Verdict.Yes ? 1 : 0;
                fn += v == Verdict.Yes ? 0 : 1;
            }
            else
            {
                tn += v == Verdict.No ? 1 : 0;
                fp += v == Verdict.Yes ? 1 : 0;
            }
        }
        static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;
        var precision = Ratio(tp, tp + fp);
        var recall = Ratio(tp, follows.Count(f => f));
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new JudgmentScore(follows.Count, Ratio(tp + tn, follows.Count), f1, precision, recall, Ratio(tn, follows.Count(f => !f)), invalid,
            tp + fp, follows.Count(f => f), new string(correct));
    }
}
