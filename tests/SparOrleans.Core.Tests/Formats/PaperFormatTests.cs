using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Tests.Formats;

public class PaperFormatTests
{
    private readonly PaperFormat _format = new();

    [Fact]
    public void JudgePrompt_Instruction_UsesFigure8TextWithCurlyQuotesAndOriginalSpelling()
    {
        var messages = _format.JudgePrompt("Write a haiku.", "Leaves fall");

        var prompt = Assert.Single(messages);
        Assert.Equal(ChatMessage.User, prompt.Role);
        Assert.Contains("Prompt: \u201CWrite a haiku.\u201D\n\nOutput: \u201CLeaves fall\u201D", prompt.Content);
        Assert.Contains("give a final judgement weather the Output accurately follows the Prompt", prompt.Content);
        Assert.StartsWith("Please act an expert in evaluating the capabilities of instruction-following.", prompt.Content);
        Assert.EndsWith("Step-by-step verification: xxx\nFinal Judgement (if the Output accurately follows the Prompt): (Yes or No)", prompt.Content);
    }

    [Fact]
    public void RefinePrompt_ParentJudgment_IsThreeTurnConversation()
    {
        var messages = _format.RefinePrompt("Write a haiku.", "Leaves fall", "Step-by-step verification: ...\nFinal Judgement: No");

        Assert.Equal([ChatMessage.User, ChatMessage.Assistant, ChatMessage.User], messages.Select(m => m.Role));
        Assert.Equal(_format.JudgePrompt("Write a haiku.", "Leaves fall")[0].Content, messages[0].Content);
        Assert.Equal("Step-by-step verification: ...\nFinal Judgement: No", messages[1].Content);
        Assert.StartsWith("Based on your judgement, refine the Output", messages[2].Content);
        Assert.EndsWith("Reflection on how to refine the Output: xxx\nFinal Refined Output: [[start]] xxx [[end]]", messages[2].Content);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RenderJudgment_ThenParseVerdict_RoundTrips(bool follows)
    {
        var judgment = new JudgmentContent(
            [new ConstraintCheck("No commas", "No comma found", true), new ConstraintCheck("ends with forest", "ends with river", follows)],
            follows);

        var text = _format.RenderJudgment(judgment);

        Assert.StartsWith("Step-by-step verification:", text);
        Assert.Equal(follows ? Verdict.Yes : Verdict.No, _format.ParseVerdict(text));
    }

    [Theory]
    [InlineData("Step-by-step verification: ok\nFinal Judgement (if the Output accurately follows the Prompt): Yes", Verdict.Yes)]
    [InlineData("Final Judgement (if the Output accurately follows the Prompt): No", Verdict.No)]
    [InlineData("Final Judgement: No, although Yes on length", Verdict.No)]
    [InlineData("Final Judgement: Yes. No constraint is violated", Verdict.Yes)]
    [InlineData("Everything holds. Yes", Verdict.Invalid)]
    [InlineData("Final Judgement: unclear", Verdict.Invalid)]
    [InlineData("Final Judgement: yes", Verdict.Invalid)]
    [InlineData("Final Judgement: unclear\nFinal Judgement: Yes", Verdict.Invalid)]
    [InlineData("Final Judgement: Note that the ending is right. Yes", Verdict.Yes)]
    [InlineData("Final Judgement: Not every constraint holds", Verdict.Invalid)]
    [InlineData("Final Judgement: Nothing is missing: Yes", Verdict.Yes)]
    [InlineData("Final Judgement: Yesterday's answer. No", Verdict.No)]
    public void ParseVerdict_WholeWordRule_FollowsReferenceExceptForNotAndNote(string text, Verdict expected) =>
        Assert.Equal(expected, _format.ParseVerdict(text));

    [Theory]
    [InlineData("Final Judgement: Note that the ending is right. Yes", Verdict.No)]
    [InlineData("Final Judgement: Not every constraint holds", Verdict.No)]
    [InlineData("Final Judgement: Yes", Verdict.Yes)]
    public void ParseVerdict_ReferenceSubstringQuirk_ReadsNotAndNoteAsNo(string text, Verdict expected) =>
        Assert.Equal(expected, new PaperFormat(wholeWordVerdicts: false).ParseVerdict(text));

    [Fact]
    public void RenderRefinement_ThenParseRefinement_ReturnsStrippedResponse()
    {
        var output = _format.RenderRefinement("Change the last word.", "The fox slept in the forest");

        Assert.StartsWith("Reflection on how to refine the Output: Change the last word.\nFinal Refined Output: [[start]]", output);
        Assert.Equal("The fox slept in the forest", _format.ParseRefinement(output));
    }
}
