using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;
using SparOrleans.Core.Tests.Search;

namespace SparOrleans.Core.Tests.Datasets;

public class RftTranslationTests
{
    private static readonly CompactFormat Compact = new();
    private static readonly PaperFormat Paper = new();

    private static Task<SearchState> SearchAsync(string instruction) =>
        SearchRunner.RunAsync(
            TreeSearch.Start(SearchPolicyKind.Bfs, instruction, "draft | with a bar", "end: river vs forest NO\n=> no"),
            new ScriptedEnvironment(call => call.NodeId == 2 ? "fixed v5" : $"n{call.NodeId} v{(call.NodeId == 1 ? 1 : 2)}", call => ScriptedEnvironment.VotesFromText(call.Response)));

    [Fact]
    public async Task FromCompact_Refinement_IsThePapersThreeTurnConversationWithTheParentsJudgmentAndTheRefinerOutput()
    {
        var state = await SearchAsync("Write | about a fox.");
        var compact = RftData.Refinement(state, Compact)!;

        var paper = RftTranslation.FromCompact(compact, "Write | about a fox.", state, Paper);

        var parentJudgment = "Step-by-step verification:\n1. end: river vs forest (not satisfied)\nFinal Judgement (if the Output accurately follows the Prompt): No";
        Assert.Equal(RftSource.Refinement, paper.Source);
        Assert.Equal(
            [
                .. Paper.RefinePrompt("Write | about a fox.", "draft | with a bar", parentJudgment),
                new ChatMessage(ChatMessage.Assistant, "Reflection on how to refine the Output: revise\nFinal Refined Output: [[start]] fixed v5 [[end]]"),
            ],
            paper.Messages);
    }

    [Fact]
    public async Task FromCompact_TreeJudgment_IsThePaperJudgePromptAndTheSameChecksInThePapersWords()
    {
        var state = await SearchAsync("Write | about a fox.");
        var judgments = RftData.TreeJudgments(state, Compact).ToList();
        Assert.NotEmpty(judgments);

        foreach (var example in judgments)
        {
            var paper = RftTranslation.FromCompact(example, "Write | about a fox.", state, Paper);

            var response = example.Key["J|Write | about a fox.|".Length..];
            Assert.Equal(example.Source, paper.Source);
            Assert.Equal(Paper.JudgePrompt("Write | about a fox.", response), paper.Messages.Take(1));
            var expected = example.IsYesJudgment
                ? "Step-by-step verification:\n1. c:  (satisfied)\nFinal Judgement (if the Output accurately follows the Prompt): Yes"
                : "Step-by-step verification:\n1. c: bad (not satisfied)\nFinal Judgement (if the Output accurately follows the Prompt): No";
            Assert.Equal(new ChatMessage(ChatMessage.Assistant, expected), paper.Messages[1]);
            Assert.Equal(example.IsYesJudgment ? Verdict.Yes : Verdict.No, Paper.ParseVerdict(paper.Messages[1].Content));
        }
    }

    [Fact]
    public async Task FromCompact_CompactTarget_ReturnsTheExampleItself()
    {
        var state = await SearchAsync("Write.");
        var example = RftData.Refinement(state, Compact)!;

        Assert.Same(example, RftTranslation.FromCompact(example, "Write.", state, Compact));
    }

    [Fact]
    public async Task FromCompact_ExampleOfAnotherPromptOrSearch_Throws()
    {
        var state = await SearchAsync("Write.");
        var judgment = RftData.TreeJudgments(state, Compact).First();

        Assert.Throws<InvalidOperationException>(() => RftTranslation.FromCompact(judgment, "Another.", state, Paper));
        Assert.Throws<InvalidOperationException>(() => RftTranslation.FromCompact(RftData.Refinement(state, Compact)!, "Write.", null, Paper));
    }

    [Fact]
    public void ReadJudgment_RenderedJudgment_GivesBackItsChecksAndVerdict()
    {
        var content = new JudgmentContent(
            [new("end with river", "forest", false), new("commas", "0", true), new("a: colon", "x: y", true)], Follows: false);

        var read = Compact.ReadJudgment(Compact.RenderJudgment(content))!;

        Assert.Equal(content.Checks.Take(2), read.Checks.Take(2));
        Assert.Equal("a: colon: x: y", $"{read.Checks[2].Constraint}: {read.Checks[2].Evidence}");
        Assert.False(read.Follows);
        Assert.Null(Compact.ReadJudgment("garbled, no verdict"));
        Assert.Empty(Compact.ReadJudgment("half a line\n=> yes")!.Checks);
    }
}
