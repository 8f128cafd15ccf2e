using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;

namespace SparOrleans.Core.Tests.Judging;

public class MajorityVoteTests
{
    private static readonly CompactFormat Format = new();

    private static string[] Samples(string verdicts) =>
        verdicts.Select((v, i) => v switch { 'y' => $"s{i}\n=> yes", 'n' => $"s{i}\n=> no", _ => $"s{i} unclear" }).ToArray();

    [Fact]
    public void Tally_Unanimous_HasValueOneAndIsNotRftData()
    {
        var vote = MajorityVote.Tally(Samples("yyyyy"), Format, new VotingOptions(), "r");

        Assert.Equal(Verdict.Yes, vote.Majority);
        Assert.Equal(1.0, vote.Value);
        Assert.Equal(0, vote.KeptIndex);
        Assert.False(vote.IsNonUnanimous);
        Assert.Null(vote.DissentingJudgment);
    }

    [Fact]
    public void Tally_AllInvalid_IsTieWithoutValue()
    {
        var vote = MajorityVote.Tally(Samples("xxxxx"), Format, new VotingOptions(), "r");

        Assert.True(vote.IsTie);
        Assert.Null(vote.Value);
        Assert.Null(vote.KeptJudgment);
        Assert.Equal(5, vote.Invalid);
    }

    [Fact]
    public void Tally_TieCausedByInvalidSample_IsTieWithHalfValue()
    {
        var vote = MajorityVote.Tally(Samples("yxnyn"), Format, new VotingOptions(), "r");

        Assert.True(vote.IsTie);
        Assert.Equal(0.5, vote.Value);
        Assert.Equal(1, vote.Invalid);
    }

    [Fact]
    public void Tally_SplitVote_ValueIgnoresInvalidAndKeepsFirstAgreeing()
    {
        var vote = MajorityVote.Tally(Samples("nxnyn"), Format, new VotingOptions(), "r");

        Assert.Equal(Verdict.No, vote.Majority);
        Assert.Equal(0.25, vote.Value!.Value, 10);
        Assert.Equal(0, vote.KeptIndex);
        Assert.True(vote.IsNonUnanimous);
        Assert.Equal("s3\n=> yes", vote.DissentingJudgment);
    }

    [Fact]
    public void Tally_RandomKeptJudgment_AgreesWithMajorityAndIsStablePerSalt()
    {
        var samples = Samples("ynyny");
        var options = new VotingOptions(KeptJudgment: KeptJudgmentChoice.Random, Seed: 7);
        var picks = Enumerable.Range(0, 40).Select(i => MajorityVote.Tally(samples, Format, options, $"response {i}").KeptIndex!.Value).ToList();

        Assert.All(picks, i => Assert.Equal('y', "ynyny"[i]));
        Assert.True(picks.Distinct().Count() > 1);
        Assert.Equal(picks[3], MajorityVote.Tally(samples, Format, options, "response 3").KeptIndex);
    }

    [Fact]
    public async Task JudgeAsync_TiesThenDecision_RejudgesUntilDecided()
    {
        var rounds = new[] { "yynnx", "xxxxx", "yynny" };
        var vote = await MajorityVote.JudgeAsync((round, k, _) => Task.FromResult<IReadOnlyList<string>>(Samples(rounds[round])),
            Format, new VotingOptions(TieRejudges: 3), "r");

        Assert.Equal(3, vote.Rounds);
        Assert.Equal(Verdict.Yes, vote.Majority);
        Assert.Equal(0.6, vote.Value!.Value, 10);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    public async Task JudgeAsync_AlwaysTied_StopsAfterRejudgesAndStaysTie(int rejudges, int expectedRounds)
    {
        var calls = 0;
        var vote = await MajorityVote.JudgeAsync((_, k, _) => { calls++; return Task.FromResult<IReadOnlyList<string>>(Samples("ynxyn")); },
            Format, new VotingOptions(TieRejudges: rejudges), "r");

        Assert.True(vote.IsTie);
        Assert.Equal(expectedRounds, vote.Rounds);
        Assert.Equal(expectedRounds, calls);
    }

    [Fact]
    public void Validated_OutOfRange_NamesEveryBadOption()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new VotingOptions(Samples: 0, TieRejudges: -1).Validated());

        Assert.Contains("Samples must be between 1 and 64 (got 0)", e.Message);
        Assert.Contains("TieRejudges must be between 0 and 16 (got -1)", e.Message);
        Assert.Equal(2, e.ProblemList.Count);
    }
}
