using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Tests.Formats;

public class CompactFormatTests
{
    private readonly CompactFormat _format = new();

    private static readonly JudgmentContent Flawed = new(
        [new ConstraintCheck("end", "river vs forest", false), new ConstraintCheck("case", "lower", true), new ConstraintCheck("commas", "\"fox,\"", false)],
        false);

    [Fact]
    public void Prompts_Instruction_AreShortPipeSeparatedLines()
    {
        Assert.Equal("A|Write about a fox.", Assert.Single(_format.ActorPrompt("Write about a fox.")).Content);
        Assert.Equal("J|Write about a fox.|the fox ran", Assert.Single(_format.JudgePrompt("Write about a fox.", "the fox ran")).Content);
    }

    [Fact]
    public void RenderJudgment_FlawedResponse_WritesEvidenceFirstThenVerdict()
    {
        var text = _format.RenderJudgment(Flawed);

        Assert.Equal("end: river vs forest NO\ncase: lower ok\ncommas: \"fox,\" NO\n=> no", text);
        Assert.Equal(Verdict.No, _format.ParseVerdict(text));
        Assert.Equal(Verdict.Yes, _format.ParseVerdict(_format.RenderJudgment(new JudgmentContent([new ConstraintCheck("end", "forest", true)], true))));
    }

    [Fact]
    public void RefinePrompt_EvidenceJudgment_CarriesOnlyTheFailedConstraints()
    {
        var message = Assert.Single(_format.RefinePrompt("Write about a fox.", "the fox ran, by the river", _format.RenderJudgment(Flawed)));

        Assert.Equal(ChatMessage.User, message.Role);
        Assert.Equal("R|Write about a fox.|the fox ran, by the river|no: end, commas", message.Content);
    }

    [Theory]
    [InlineData("end: x ok\n=> yes", Verdict.Yes)]
    [InlineData("=> no", Verdict.No)]
    [InlineData("end: x NO\n=> note", Verdict.Invalid)]
    [InlineData("end: x ok", Verdict.Invalid)]
    [InlineData("=> No", Verdict.Invalid)]
    public void ParseVerdict_CompactText_ReadsLowercaseTokenAfterArrow(string text, Verdict expected) =>
        Assert.Equal(expected, _format.ParseVerdict(text));

    [Theory]
    [InlineData("fix end\n[[start]]the fox slept in the forest[[end]]", "the fox slept in the forest")]
    [InlineData("[[start]]  a  [[end]] [[start]]b[[end]]", "a")]
    [InlineData("fix end\nthe fox slept", null)]
    [InlineData("[[start]]the fox slept", null)]
    [InlineData("[[start]]   [[end]]", null)]
    [InlineData("[[end]]x[[start]]", null)]
    public void ParseRefinement_Markers_ExtractsOrFails(string output, string? expected) =>
        Assert.Equal(expected, _format.ParseRefinement(output));
}
