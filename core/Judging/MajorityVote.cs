using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;

namespace SparOrleans.Core.Judging;

/// <summary>Majority voting@k: tallying one round, and judging with tie re-judges.</summary>
public static class MajorityVote
{
    /// <summary>
    /// Tallies one round of judge samples. <paramref name="salt"/> (e.g. the response text) makes the seeded random
    /// choice of the kept judgment stable for the same response, so a resumed search repeats it.
    /// </summary>
    public static Vote Tally(IReadOnlyList<string> samples, IRoleFormat format, VotingOptions options, string salt, int rounds = 1)
    {
        var verdicts = samples.Select(format.ParseVerdict).ToArray();
        var yes = verdicts.Count(v => v == Verdict.Yes);
        var no = verdicts.Count(v => v == Verdict.No);
        var invalid = verdicts.Length - yes - no;
        Verdict? majority = yes == no ? null : yes > no ? Verdict.Yes : Verdict.No;
        double? value = yes + no == 0 ? null : (double)yes / (yes + no);
        int? kept = null;
        if (majority is { } m)
        {
            var agreeing = Enumerable.Range(0, verdicts.Length).Where(i => verdicts[i] == m).ToArray();
            kept = options.KeptJudgment == KeptJudgmentChoice.First
                ? agreeing[0]
                : agreeing[new Random(StableHash.Combine(options.Seed, salt)).Next(agreeing.Length)];
        }
        return new Vote(samples.ToArray(), verdicts, yes, no, invalid, majority, value, kept, rounds);
    }

    /// <summary>
    /// Judges with <see cref="VotingOptions.Samples"/> samples per round; a tie is re-judged with fresh samples up to
    /// <see cref="VotingOptions.TieRejudges"/> times. The result is the last round's vote (a tie when every round tied:
    /// the caller drops or discards it). <paramref name="sampleRound"/> gets the round number (0-based) and the sample count.
    /// </summary>
    public static async Task<Vote> JudgeAsync(
        Func<int, int, CancellationToken, Task<IReadOnlyList<string>>> sampleRound,
        IRoleFormat format,
        VotingOptions options,
        string salt,
        CancellationToken cancellationToken = default)
    {
        options.Validated();
        Vote vote;
        var round = 0;
        do
        {
            var samples = await sampleRound(round, options.Samples, cancellationToken).ConfigureAwait(false);
            vote = Tally(samples, format, options, salt, round + 1);
            round++;
        }
        while (vote.IsTie && round <= options.TieRejudges);
        return vote;
    }
}
