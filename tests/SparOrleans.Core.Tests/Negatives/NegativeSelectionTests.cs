using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;

namespace SparOrleans.Core.Tests.Negatives;

public class NegativeSelectionTests
{
    private static readonly CompactFormat Format = new();

    private static JudgedResponse Judged(string response, string verdicts) =>
        new(response, MajorityVote.Tally(verdicts.Select(v => v == 'y' ? $"{response}\n=> yes" : v == 'n' ? $"{response}\n=> no" : "?").ToArray(),
            Format, new VotingOptions(), response));

    [Fact]
    public void Select_MixedPrompts_KeepsOnlyPromptsWithAMajorityNoAndOneRootEach()
    {
        var prompts = new[]
        {
            new JudgedPrompt("p1", "one", [Judged("a", "yyyyy"), Judged("b", "nnnyy"), Judged("c", "nnnnn")]),
            new JudgedPrompt("p2", "two", [Judged("d", "yyyyn"), Judged("e", "yynnx")]),
            new JudgedPrompt("p3", "three", [Judged("f", "xxxxx")]),
        };

        var roots = NegativeSelection.Select(prompts, seed: 1);

        var root = Assert.Single(roots);
        Assert.Equal("p1", root.PromptId);
        Assert.Contains(root.Response, new[] { "b", "c" });
        Assert.EndsWith("=> no", root.Judgment);
        Assert.StartsWith(root.Response, root.Judgment);
    }

    [Fact]
    public void Select_SameSeed_ChoosesTheSameRootsAndVariesAcrossPrompts()
    {
        var prompts = Enumerable.Range(0, 30)
            .Select(i => new JudgedPrompt($"p{i}", $"i{i}", [Judged($"a{i}", "nnnnn"), Judged($"b{i}", "nnnyy"), Judged($"c{i}", "nnnny")]))
            .ToList();

        var first = NegativeSelection.Select(prompts, 5);
        var second = NegativeSelection.Select(prompts, 5);

        Assert.Equal(first, second);
        Assert.Equal(30, first.Count);
        Assert.True(first.Select(r => r.Response[0]).Distinct().Count() > 1);
    }

    [Fact]
    public void Select_RecordsWhichSampleBecameTheRoot()
    {
        var prompt = new JudgedPrompt("p1", "one", [Judged("a", "yyyyy"), Judged("b", "yyyyy"), Judged("c", "nnnnn")]);

        var root = Assert.Single(NegativeSelection.Select([prompt], seed: 3));

        Assert.Equal(2, root.SampleIndex);
        Assert.Equal("c", root.Response);
    }

    [Theory]
    [InlineData(new[] { "xxxxx", "xxxxx" }, NoNegativeReason.AllVotesInvalid)]
    [InlineData(new[] { "yyyyy", "yyynn" }, NoNegativeReason.AllJudgedYes)]
    [InlineData(new[] { "yyyyy", "yynnx" }, NoNegativeReason.NoMajorityNo)]
    [InlineData(new[] { "xxxxx", "yyyyy" }, NoNegativeReason.NoMajorityNo)]
    public void WhyNone_NamesTheCaseOfPromptsWithoutANegative(string[] votes, NoNegativeReason expected)
    {
        Assert.Equal(expected, NegativeSelection.WhyNone([.. votes.Select((v, i) => Judged($"r{i}", v).Vote)]));
    }

    [Fact]
    public void WhyNone_IsNullWhenASampleIsANegative()
    {
        Assert.Null(NegativeSelection.WhyNone([Judged("a", "xxxxx").Vote, Judged("b", "nnnyy").Vote]));
    }
}
