using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Core.Simulation;
using SparOrleans.Core.Tests.Search;

namespace SparOrleans.Core.Tests.Datasets;

public class DpoAndBaselinePairsTests
{
    private static readonly CompactFormat Format = new();

    [Fact]
    public async Task FromSearches_ManySimulatedTrees_PairsOnlyWinnersAndNeverChosenEqualsRejected()
    {
        var states = new List<SearchState>();
        for (var root = 0; root < 200; root++)
        {
            var policy = SearchTestKit.AllPolicies[root % SearchTestKit.AllPolicies.Length];
            states.Add(await SearchRunner.RunAsync(SearchTestKit.StartSimulated(policy, root), new SimulatedRefiner(new SimulatedRefinerOptions(0.4), 5, root)));
        }

        var pairs = DpoPairs.FromSearches(states);

        Assert.Equal(states.Count(s => s.Winner is not null), pairs.Count);
        Assert.InRange(pairs.Count, 1, 199);
        Assert.All(pairs, p => Assert.NotEqual(p.Chosen, p.Rejected));
        Assert.All(pairs, p => Assert.StartsWith("draft of answer", p.Rejected));
        Assert.Equal(states[0].Winner?.Response, pairs.FirstOrDefault(p => p.Prompt == states[0].Instruction)?.Chosen);
    }

    [Fact]
    public void Make_SameTextUpToWhitespace_GivesNoPair()
    {
        Assert.Null(DpoPairs.Make("p", "the fox ", "the fox"));
        Assert.Equal(new DpoPair("p", "a", "b"), DpoPairs.Make("p", "a", "b"));
    }

    [Fact]
    public void SelfRewarding_Samples_PairsBestAgainstWorstAndSkipsFlatScores()
    {
        var pair = BaselinePairs.SelfRewarding("p", [new("a", 0.4), new("b", 1.0), new("c", 0.0), new("d", 1.0)]);

        Assert.Equal(new DpoPair("p", "b", "c"), pair);
        Assert.Null(BaselinePairs.SelfRewarding("p", [new("a", 0.6), new("b", 0.6)]));
        Assert.Null(BaselinePairs.SelfRewarding("p", [new("same", 1.0), new("same", 0.0)]));
    }

    [Fact]
    public void Interfering_CorrectAndIncorrectSamples_PairsCorrectOverIncorrectOnlyWhenBothExist()
    {
        var samples = new LabelledResponse[] { new("good 1", true), new("bad 1", false), new("good 2", true), new("bad 2", false) };

        var pair = BaselinePairs.Interfering("p", samples, seed: 3)!;

        Assert.StartsWith("good", pair.Chosen);
        Assert.StartsWith("bad", pair.Rejected);
        Assert.Equal(pair, BaselinePairs.Interfering("p", samples, seed: 3));
        Assert.Null(BaselinePairs.Interfering("p", [new("good", true), new("good 2", true)], 3));
    }

    [Fact]
    public void MetaRewardingJudgePairs_NonUnanimousVotes_PreferTheMajorityJudgment()
    {
        var split = MajorityVote.Tally(["x\n=> no", "y\n=> yes", "z\n=> no"], Format, new VotingOptions(), "r1");
        var unanimous = MajorityVote.Tally(["x\n=> yes", "y\n=> yes"], Format, new VotingOptions(), "r2");

        var pairs = BaselinePairs.MetaRewardingJudgePairs(new JudgedPrompt("1", "write", [new("r1", split), new("r2", unanimous)]), Format);

        var pair = Assert.Single(pairs);
        Assert.Equal("J|write|r1", pair.Prompt);
        Assert.Equal("x\n=> no", pair.Chosen);
        Assert.Equal("y\n=> yes", pair.Rejected);
    }

    [Fact]
    public void BaselineBuilders_RandomSamplesWithRepeatedTexts_NeverPairATextWithItself()
    {
        var random = new Random(8);
        for (var trial = 0; trial < 500; trial++)
        {
            var texts = Enumerable.Range(0, random.Next(1, 6)).Select(_ => $"t{random.Next(0, 3)}").ToList();
            var scored = texts.Select(t => new ScoredResponse(t, random.Next(0, 3) / 2.0)).ToList();
            var labelled = texts.Select(t => new LabelledResponse(t, random.Next(2) == 0)).ToList();

            foreach (var pair in new[] { BaselinePairs.SelfRewarding("p", scored), BaselinePairs.Interfering("p", labelled, trial) }.OfType<DpoPair>())
            {
                Assert.NotEqual(pair.Chosen, pair.Rejected);
            }
        }
    }

    private static JudgedResponse Judged(string response, params string[] verdicts) =>
        new(response, MajorityVote.Tally(verdicts.Select(v => $"e\n=> {v}").ToList(), Format, new VotingOptions(Samples: verdicts.Length), response));

    private static JudgedPrompt Prompt() => new("p", "write", [
        Judged("middle", "yes", "no", "yes"),
        Judged("best", "yes", "yes", "yes"),
        Judged("unjudged", "maybe", "maybe", "maybe"),
        Judged("worst", "no", "no", "no"),
    ]);

    [Fact]
    public void FromJudged_SelfRewarding_HighestOwnVoteAgainstLowestIgnoringInvalidVotes()
    {
        var pair = BaselinePairs.FromJudged(PairSource.SelfRewarding, Prompt(), seed: 1);

        Assert.NotNull(pair);
        Assert.Equal(("best", "worst"), (pair.Chosen, pair.Rejected));
    }

    [Fact]
    public void FromJudged_Interfering_APassedSampleAgainstAFailedOneByTheOwnVote()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var pair = BaselinePairs.FromJudged(PairSource.Interfering, Prompt(), seed);

            Assert.NotNull(pair);
            Assert.Contains(pair.Chosen, new[] { "middle", "best" });
            Assert.Equal("worst", pair.Rejected);
        }
    }

    [Theory]
    [InlineData(PairSource.Refinement)]
    [InlineData(PairSource.SelfRefine)]
    public void FromJudged_TreeSearchSources_LeaveThePairToTheTreeSearch(PairSource source)
    {
        Assert.True(source.UsesTreeSearch());
        Assert.Null(BaselinePairs.FromJudged(source, Prompt(), seed: 1));
    }

    [Fact]
    public void FromJudged_MetaRewarding_TakesSelfRewardingsActorPairs()
    {
        Assert.Equal(BaselinePairs.FromJudged(PairSource.SelfRewarding, Prompt(), seed: 1), BaselinePairs.FromJudged(PairSource.MetaRewarding, Prompt(), seed: 1));
        Assert.False(PairSource.MetaRewarding.UsesTreeSearch());
        Assert.True(PairSource.MetaRewarding.TrainsJudgeByDpo());
    }

    [Fact]
    public void PairSources_Names_ParseBackToEveryKindAndOnlySelfTrainsBySft()
    {
        foreach (var source in Enum.GetValues<PairSource>())
        {
            Assert.Equal(source, PairSources.Parse(source.Name()));
            Assert.Equal(source == PairSource.SelfRefine, source.TrainsActorBySft());
        }
        Assert.Contains("self-refine", Assert.Throws<ArgumentException>(() => PairSources.Parse("self")).Message);
    }

    [Fact]
    public void FromJudged_AllSamplesJudgedAlike_NoPair()
    {
        var alike = new JudgedPrompt("p", "write", [Judged("a", "yes", "yes", "yes"), Judged("b", "yes", "yes", "yes")]);

        Assert.Null(BaselinePairs.FromJudged(PairSource.SelfRewarding, alike, seed: 1));
        Assert.Null(BaselinePairs.FromJudged(PairSource.Interfering, alike, seed: 1));
    }
}
