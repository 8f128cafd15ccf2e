using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Core.Tests.Search;

namespace SparOrleans.Core.Tests.Datasets;

public class RftDatasetTests
{
    private static SftExample Example(RftSource source, string key) =>
        new(source, [new(ChatMessage.User, key), new(ChatMessage.Assistant, $"answer to {key}")]);

    [Fact]
    public void Build_RandomCandidatePools_BalancesYesAndNoWithinOneAndRespectsCapsAndKeys()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var candidates = Enum.GetValues<RftSource>()
                .SelectMany(s => Enumerable.Range(0, random.Next(0, 60)).Select(i => Example(s, $"k{random.Next(0, 150)}")))
                .ToList();
            var options = new RftBalanceOptions(random.Next(0, 40), random.Next(0, 40), random.Next(0, 40), random.Next(0, 40), random.Next(0, 40), Seed: trial);

            var dataset = RftDatasetBuilder.Build(candidates, options);

            Assert.InRange(dataset.YesJudgments - dataset.NoJudgments, -1, 1);
            Assert.All(Enum.GetValues<RftSource>(), s => Assert.True(dataset.Counts[s] <= options.Cap(s)));
            Assert.Equal(dataset.Examples.Count, dataset.Examples.Select(e => e.Key).Distinct().Count());
            Assert.Equal(dataset.Counts.Values.Sum(), dataset.Examples.Count);
        }
    }

    [Fact]
    public void Build_DuplicateKeys_KeepsTheHigherPrioritySource()
    {
        var dataset = RftDatasetBuilder.Build(
            [Example(RftSource.InitialYes, "same"), Example(RftSource.Refinement, "same"), Example(RftSource.TreeNo, "n")],
            new RftBalanceOptions(BalanceYesNo: false));

        Assert.Equal(2, dataset.Examples.Count);
        Assert.Equal(1, dataset.Counts[RftSource.Refinement]);
        Assert.Equal(0, dataset.Counts[RftSource.InitialYes]);
    }

    [Fact]
    public void Build_YesShare_TrimsTheSurplusSideToThatShare()
    {
        // 81 Yes and 30 No at a Yes share of 0.35: Yes may be at most floor(30 × 0.35 / 0.65) = 16, No stays 30
        // (16 / 46 = 0.348); initial Yes go first, so 16 tree Yes remain.
        var candidates = Enumerable.Range(0, 30).Select(i => Example(RftSource.TreeYes, $"ty{i}"))
            .Concat(Enumerable.Range(0, 51).Select(i => Example(RftSource.InitialYes, $"iy{i}")))
            .Concat(Enumerable.Range(0, 20).Select(i => Example(RftSource.TreeNo, $"tn{i}")))
            .Concat(Enumerable.Range(0, 10).Select(i => Example(RftSource.InitialNo, $"in{i}")));

        var dataset = RftDatasetBuilder.Build(candidates, new RftBalanceOptions(YesShare: 0.35));
        var fewNo = RftDatasetBuilder.Build(candidates.Where(c => c.Source != RftSource.InitialNo), new RftBalanceOptions(YesShare: 0.35));

        Assert.Equal((16, 30), (dataset.YesJudgments, dataset.NoJudgments));
        Assert.Equal((16, 0), (dataset.Counts[RftSource.TreeYes], dataset.Counts[RftSource.InitialYes]));
        Assert.Equal((10, 20), (fewNo.YesJudgments, fewNo.NoJudgments));
        Assert.Throws<InvalidOptionsException>(() => RftDatasetBuilder.Build(candidates, new RftBalanceOptions(YesShare: 1)));
    }

    [Fact]
    public void Build_RftCapsWithoutTreeSources_KeepsOnlyTheActorsSamplesAndRefinements()
    {
        // The same pools as above; the reference's scaled caps would keep 16 tree Yes, these caps none.
        var candidates = Enumerable.Range(0, 30).Select(i => Example(RftSource.TreeYes, $"ty{i}"))
            .Concat(Enumerable.Range(0, 51).Select(i => Example(RftSource.InitialYes, $"iy{i}")))
            .Concat(Enumerable.Range(0, 20).Select(i => Example(RftSource.TreeNo, $"tn{i}")))
            .Concat(Enumerable.Range(0, 60).Select(i => Example(RftSource.InitialNo, $"in{i}")))
            .Concat(Enumerable.Range(0, 5).Select(i => Example(RftSource.Refinement, $"r{i}")));
        var caps = new RftCaps(Refinements: 81, TreeYes: 0, TreeNo: 0, InitialNo: 1000, InitialYes: 1000);

        var dataset = RftDatasetBuilder.Build(candidates, caps.Balance(seed: 3, yesShare: 0.35));

        // 51 Yes and 60 No at 0.35: Yes at most floor(60 × 0.35 / 0.65) = 32, No at most floor(51 × 0.65 / 0.35) = 94.
        Assert.Equal((0, 0), (dataset.Counts[RftSource.TreeYes], dataset.Counts[RftSource.TreeNo]));
        Assert.Equal((32, 60, 5), (dataset.Counts[RftSource.InitialYes], dataset.Counts[RftSource.InitialNo], dataset.Counts[RftSource.Refinement]));
        Assert.Contains("InitialNo must be", Assert.Throws<InvalidOptionsException>(() => (caps with { InitialNo = -1 }).Validated()).Message);
    }

    [Theory]
    // A judgment from the loop: two of its checks name constraints the prompt does not state (big or tall; shell).
    [InlineData("Avoid commas in your response: commas: none ok\nAvoid the words big or tall: forbidden words found: none ok\nInclude the keywords shell: shell: missing NO\n=> no", false)]
    [InlineData("Avoid commas in your response: commas: none ok\nAvoid the words old or red: forbidden words found: none ok\n=> yes", true)]
    [InlineData("=> yes", false)]
    [InlineData("Avoid commas in your response: commas: none ok\nno verdict", false)]
    public void IsGrounded_CompactJudgment_NamesOnlyThePromptsConstraints(string judgment, bool grounded)
    {
        const string instruction = "Write a short letter to Ned. Avoid the words old or red. Avoid commas in your response. Include the keywords rope.";

        Assert.Equal(grounded, RftData.IsGrounded(RoleFormats.Compact, instruction, judgment));
        Assert.True(RftData.IsGrounded(RoleFormats.Paper, instruction, judgment));
    }

    [Fact]
    public void Build_MoreYesThanNo_TrimsInitialYesBeforeTreeYes()
    {
        var candidates = Enumerable.Range(0, 5).Select(i => Example(RftSource.TreeYes, $"ty{i}"))
            .Concat(Enumerable.Range(0, 5).Select(i => Example(RftSource.InitialYes, $"iy{i}")))
            .Concat(Enumerable.Range(0, 6).Select(i => Example(RftSource.TreeNo, $"tn{i}")));

        var dataset = RftDatasetBuilder.Build(candidates);

        Assert.Equal(6, dataset.YesJudgments);
        Assert.Equal(6, dataset.NoJudgments);
        Assert.Equal(5, dataset.Counts[RftSource.TreeYes]);
        Assert.Equal(1, dataset.Counts[RftSource.InitialYes]);
    }

    [Fact]
    public void ScaledTo_Total_KeepsTheReferenceProportions()
    {
        var options = RftBalanceOptions.ScaledTo(950);

        Assert.Equal((400, 150, 100, 50, 250), (options.MaxRefinements, options.MaxTreeYes, options.MaxTreeNo, options.MaxInitialNo, options.MaxInitialYes));
        Assert.Equal(9500, Enum.GetValues<RftSource>().Sum(s => new RftBalanceOptions().Cap(s)));
        Assert.Throws<InvalidOptionsException>(() => new RftBalanceOptions(MaxTreeNo: -1).Validated());
    }

    [Fact]
    public async Task Refinement_PaperFormatWinner_IsTheParentsRefineConversationPlusTheRefinerOutput()
    {
        var format = new PaperFormat();
        var env = new ScriptedEnvironment(call => call.NodeId == 2 ? "fixed v5" : $"n{call.NodeId} v1", call => ScriptedEnvironment.VotesFromText(call.Response));
        var state = await SearchRunner.RunAsync(TreeSearch.Start(SearchPolicyKind.Bfs, "Write.", "draft", "Final Judgement: No"), env);

        var example = RftData.Refinement(state, format)!;

        Assert.Equal(RftSource.Refinement, example.Source);
        Assert.Equal(4, example.Messages.Count);
        Assert.Equal(format.RefinePrompt("Write.", "draft", "Final Judgement: No"), example.Messages.Take(3));
        Assert.Equal(state.Winner!.RefinerOutput, example.Messages[3].Content);
        Assert.Equal(ChatMessage.Assistant, example.Messages[3].Role);
    }

    [Fact]
    public async Task TreeAndInitialJudgments_OnlyNonUnanimousVotes_BecomeExamplesWithTheMajorityJudgment()
    {
        var format = new CompactFormat();
        var env = new ScriptedEnvironment(call => $"n{call.NodeId} v{(call.NodeId == 1 ? 5 : call.NodeId == 2 ? 2 : 0)}", call => ScriptedEnvironment.VotesFromText(call.Response));
        var state = await SearchRunner.RunAsync(TreeSearch.Start(SearchPolicyKind.Bfs, "Write.", "draft", "=> no"), env);
        var initial = new JudgedPrompt("p", "Write.", [new("a", MajorityVote.Tally(["=> yes", "=> yes", "=> no"], format, new VotingOptions(), "a"))]);

        var tree = RftData.TreeJudgments(state, format, RftVotes.NonUnanimous).ToList();
        var fromInitial = RftData.InitialJudgments(initial, format, RftVotes.NonUnanimous).ToList();

        var example = Assert.Single(tree);
        Assert.Equal(RftSource.TreeNo, example.Source);
        Assert.Equal("J|Write.|n2 v2", example.Key);
        Assert.EndsWith("=> no", example.Messages[1].Content);
        Assert.Equal(RftSource.InitialYes, Assert.Single(fromInitial).Source);
    }

    [Fact]
    public async Task TreeAndInitialJudgments_UnanimousFilter_OnlyVotesWhoseSamplesAllAgreeBecomeExamples()
    {
        var format = new CompactFormat();
        var env = new ScriptedEnvironment(call => $"n{call.NodeId} v{(call.NodeId == 1 ? 5 : call.NodeId == 2 ? 2 : 0)}", call => ScriptedEnvironment.VotesFromText(call.Response));
        var state = await SearchRunner.RunAsync(TreeSearch.Start(SearchPolicyKind.Bfs, "Write.", "draft", "=> no"), env);
        var initial = new JudgedPrompt("p", "Write.",
        [
            new("split", MajorityVote.Tally(["=> yes", "=> yes", "=> no"], format, new VotingOptions(), "split")),
            new("sure", MajorityVote.Tally(["=> no", "=> no", "=> no"], format, new VotingOptions(), "sure")),
            new("tied", MajorityVote.Tally(["=> yes", "=> no", "nonsense"], format, new VotingOptions(), "tied")),
        ]);

        var tree = RftData.TreeJudgments(state, format, RftVotes.Unanimous).ToList();
        var fromInitial = RftData.InitialJudgments(initial, format, RftVotes.Unanimous).ToList();

        // Node 1 (5 of 5 Yes) and node 3 (0 of 5) are unanimous; node 2 (2 of 5) is the split vote the paper would keep.
        Assert.Equal(["J|Write.|n1 v5", "J|Write.|n3 v0"], tree.Select(e => e.Key).Order());
        Assert.Equal([RftSource.TreeYes, RftSource.TreeNo], tree.OrderBy(e => e.Key).Select(e => e.Source));
        var sure = Assert.Single(fromInitial);
        Assert.Equal(RftSource.InitialNo, sure.Source);
        Assert.Equal("J|Write.|sure", sure.Key);
    }

    [Fact]
    public async Task TreeAndInitialJudgments_MajorityDefault_EveryMajorityVoteAndOneYesOneNoNodePerTree()
    {
        var format = new CompactFormat();
        var env = new ScriptedEnvironment(call => $"n{call.NodeId} v{(call.NodeId == 1 ? 5 : call.NodeId == 2 ? 2 : 0)}", call => ScriptedEnvironment.VotesFromText(call.Response));
        var state = await SearchRunner.RunAsync(TreeSearch.Start(SearchPolicyKind.Bfs, "Write.", "draft", "=> no"), env);
        var initial = new JudgedPrompt("p", "Write.",
        [
            new("split", MajorityVote.Tally(["=> yes", "=> yes", "=> no"], format, new VotingOptions(), "split")),
            new("sure", MajorityVote.Tally(["=> no", "=> no", "=> no"], format, new VotingOptions(), "sure")),
            new("tied", MajorityVote.Tally(["=> yes", "=> no", "nonsense"], format, new VotingOptions(), "tied")),
        ]);

        var tree = RftData.TreeJudgments(state, format).ToList();
        var fromInitial = RftData.InitialJudgments(initial, format).ToList();

        // Nodes 2 (2 of 5 Yes) and 3 (0 of 5) are both judged No: the pair takes the Yes node 1 and the first No node, 2.
        Assert.Equal(1, state.Winner!.Id);
        Assert.Equal(["J|Write.|n1 v5", "J|Write.|n2 v2"], tree.Select(e => e.Key));
        Assert.Equal([RftSource.TreeYes, RftSource.TreeNo], tree.Select(e => e.Source));
        Assert.Equal([1, 2], RftData.ContrastiveNodes(state).Select(n => n.Id));
        // Split and unanimous votes alike; the tie has no majority.
        Assert.Equal(["J|Write.|split", "J|Write.|sure"], fromInitial.Select(e => e.Key));
        Assert.Equal([RftSource.InitialYes, RftSource.InitialNo], fromInitial.Select(e => e.Source));
    }
}
