using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Integration.Tests.Runs;

public sealed class IterationDatasetsTests
{
    private static readonly RunSpec Spec = new("r", "out", 1, 1, 3, "bfs", "tiny", "{}", 2);

    private static readonly Dictionary<string, PromptSpec> Prompts = new[] { "a", "b", "c" }
        .ToDictionary(id => id, id => new PromptSpec(id, $"Prompt {id}.", [], []));

    private static PromptOutcome Tree(string id, string? winner) =>
        new(id, HadNegative: true, FoundWinner: winner is not null, Expansions: 2, WinnerDepth: winner is null ? null : 1,
            winner is null ? null : new DpoPair($"Prompt {id}.", winner, "bad"), [], []);

    [Fact]
    public void VerifiedWinnerShare_KnownVerdicts_CountsFollowingWinnersOverAllTrees()
    {
        var trees = new[] { Tree("a", "good"), Tree("b", "bad"), Tree("c", null) };

        Assert.Equal(1.0 / 3, IterationDatasets.VerifiedWinnerShare(Spec, trees, Prompts, new TextVerifier()));
    }

    [Fact]
    public void VerifiedWinnerShare_UnknownVerdict_IsNull()
    {
        var trees = new[] { Tree("a", "good"), Tree("b", "unknown") };

        Assert.Null(IterationDatasets.VerifiedWinnerShare(Spec, trees, Prompts, new TextVerifier()));
    }

    [Fact]
    public void VerifiedWinnerShare_NoTrees_IsNull()
    {
        Assert.Null(IterationDatasets.VerifiedWinnerShare(Spec, [], Prompts, new TextVerifier()));
    }

    [Fact]
    public void OracleFilter_KeepsOnlyWhatTheVerifiersConfirm()
    {
        var format = RoleFormats.Compact;
        SftExample Judgment(RftSource source, string response) =>
            new(source, [.. format.JudgePrompt("Prompt a.", response), new(ChatMessage.Assistant, source is RftSource.TreeYes or RftSource.InitialYes ? "=> yes" : "=> no")]);
        var refinement = new SftExample(RftSource.Refinement, [new(ChatMessage.User, "refine"), new(ChatMessage.Assistant, "good")]);
        var candidates = new[]
        {
            Judgment(RftSource.InitialYes, "good"), Judgment(RftSource.InitialNo, "good"),
            Judgment(RftSource.TreeNo, "bad | with a bar"), Judgment(RftSource.TreeYes, "bad"),
            Judgment(RftSource.InitialNo, "unknown"), refinement,
        };
        var won = Tree("a", "good") with { RftCandidates = candidates };
        var lost = Tree("a", "bad") with { RftCandidates = [refinement] };
        var keep = IterationDatasets.OracleFilter(Spec, Prompts, new TextVerifier());

        Assert.Equal([true, false, true, false, false, true], candidates.Select(c => keep(won, c)));
        Assert.False(keep(lost, refinement));
        var kept = IterationDatasets.RftExamples(Spec, [won], new MethodSettings(new(), VotingOptions.InitialJudging, new(), VotingOptions.TreeSearch, RftVotes.Majority,
            RftCaps: new RftCaps(10, 10, 10, 10, 10)), keep);
        Assert.Equal(3, kept.Count);
        Assert.DoesNotContain(kept, e => e.Messages[^1].Content == "=> yes" && e.Messages[0].Content.EndsWith("bad", StringComparison.Ordinal));
    }

    [Fact]
    public void GroundedFilter_DropsJudgmentsNamingConstraintsThePromptLacks_AndCombinesWithTheOracle()
    {
        var format = RoleFormats.Compact;
        SftExample Judgment(string response, string check, string verdict) =>
            new(verdict == "yes" ? RftSource.InitialYes : RftSource.InitialNo,
                [.. format.JudgePrompt("Prompt a.", response), new(ChatMessage.Assistant, $"{check}: evidence ok\n=> {verdict}")]);
        var grounded = Judgment("bad", "Prompt a", "yes");
        var madeUp = Judgment("good", "Prompt b", "yes");
        var refinement = new SftExample(RftSource.Refinement, [new(ChatMessage.User, "refine"), new(ChatMessage.Assistant, "good")]);
        var outcome = Tree("a", "good");
        var keep = IterationDatasets.GroundedFilter(Spec, Prompts);
        var both = IterationDatasets.Both(keep, IterationDatasets.OracleFilter(Spec, Prompts, new TextVerifier()))!;

        Assert.Equal([true, false, true], new[] { grounded, madeUp, refinement }.Select(e => keep(outcome, e)));
        // The grounded judgment says Yes to a response that does not follow: the oracle drops it as well.
        Assert.Equal([false, false, true], new[] { grounded, madeUp, refinement }.Select(e => both(outcome, e)));
        Assert.Null(IterationDatasets.Both(null, null));
        var settings = new MethodSettings(new(), VotingOptions.InitialJudging, new(), VotingOptions.TreeSearch, RftVotes.Majority);
        Assert.Null(IterationDatasets.RftFilter(Spec, settings, Prompts, new TextVerifier()));
        var grounding = IterationDatasets.RftFilter(Spec, settings with { RftGrounded = true }, Prompts, new TextVerifier())!;
        var oracleAndGrounding = IterationDatasets.RftFilter(Spec, settings with { RftGrounded = true, RftOracle = true }, Prompts, new TextVerifier())!;
        Assert.Equal([true, false, true], new[] { grounded, madeUp, refinement }.Select(e => grounding(outcome, e)));
        Assert.Equal([false, false, true], new[] { grounded, madeUp, refinement }.Select(e => oracleAndGrounding(outcome, e)));
        Assert.Same(keep, IterationDatasets.Both(keep, null));
    }

    /// <summary>"good" follows, "unknown" cannot be told, anything else does not follow.</summary>
    private sealed class TextVerifier : IResponseVerifier
    {
        public bool? Follows(RunSpec spec, PromptSpec prompt, string response) => response switch
        {
            "good" => true,
            "unknown" => null,
            _ => false,
        };
    }
}
