using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Verifiers.Tests;

public class RegistryAndScorerTests
{
    private static IfEvalExample Example(string key, string prompt, params (string Id, string Kwargs)[] instructions) =>
        new(key, prompt, [.. instructions.Select(i => i.Id)], [.. instructions.Select(i => JsonNode.Parse(i.Kwargs)!.AsObject())]);

    [Fact]
    public void Ids_AllOfficialTypes_Has25()
    {
        Assert.Equal(25, InstructionRegistry.Ids.Count);
        Assert.All(InstructionRegistry.Ids, id => Assert.Equal(id, InstructionRegistry.Get(id).Id));
    }

    [Fact]
    public void Get_UnknownId_ThrowsUserInputNamingItAndCloseIds()
    {
        var e = Assert.Throws<UserInputException>(() => InstructionRegistry.Get("punctuation:no_commas"));
        Assert.Contains("punctuation:no_commas", e.Message);
        Assert.Contains("punctuation:no_comma", e.Message.Replace("'punctuation:no_commas'", ""));
    }

    [Fact]
    public void KwargNames_MatchIfEvalNames()
    {
        Assert.Equal(["letter", "let_frequency", "let_relation"], InstructionRegistry.KwargNames("keywords:letter_frequency"));
        Assert.Equal(["section_spliter", "num_sections"], InstructionRegistry.KwargNames("detectable_format:multiple_sections"));
        Assert.Empty(InstructionRegistry.KwargNames("punctuation:no_comma"));
    }

    [Fact]
    public void KwargNames_CoverEveryKwargOfTheOfficialInput()
    {
        foreach (var example in IfEvalFiles.ReadInput(TestPaths.IfEvalInput))
        {
            for (int i = 0; i < example.InstructionIds.Count; i++)
            {
                var names = InstructionRegistry.KwargNames(example.InstructionIds[i]);
                Assert.All(example.Kwargs[i].Select(kv => kv.Key), name => Assert.Contains(name, names));
                Assert.Equal(names.Count, example.Kwargs[i].Count);
            }
        }
    }

    [Theory]
    [InlineData("length_constraints:number_words", """{"relation":"at least"}""", "num_words")]
    [InlineData("length_constraints:number_words", """{"num_words":null,"relation":"at least"}""", "num_words")]
    [InlineData("length_constraints:number_words", """{"num_words":"ten","relation":"at least"}""", "num_words")]
    [InlineData("length_constraints:number_words", """{"num_words":3,"relation":"at most"}""", "relation")]
    public void IsFollowed_BadKwargs_ThrowsUserInputNamingKwarg(string id, string kwargs, string kwarg)
    {
        var e = Assert.Throws<UserInputException>(() =>
            InstructionRegistry.Get(id).IsFollowed("some words here", JsonNode.Parse(kwargs)!.AsObject()));
        Assert.Contains(kwarg, e.Message);
        Assert.Contains(id, e.Message);
    }

    [Fact]
    public void LooseVariants_EightInOfficialOrder()
    {
        var v = IfEvalScorer.LooseVariants("Sure!\n*a* b\nBye");
        Assert.Equal(["Sure!\n*a* b\nBye", "Sure!\na b\nBye", "*a* b\nBye", "Sure!\n*a* b", "*a* b", "a b\nBye", "Sure!\na b", "a b"], v);
    }

    [Fact]
    public void ScoreOne_PreambleLine_FailsStrictPassesLoose()
    {
        var example = Example("1", "p", ("startend:quotation", "{}"), ("punctuation:no_comma", "{}"));
        var result = IfEvalScorer.ScoreOne(example, "Here you go:\n\"quoted answer\"");
        Assert.Equal([false, true], result.FollowInstructionListStrict);
        Assert.Equal([true, true], result.FollowInstructionListLoose);
        Assert.False(result.FollowAllStrict);
        Assert.True(result.FollowAllLoose);
    }

    [Fact]
    public void ScoreOne_AsterisksRemoved_LoosePasses()
    {
        var example = Example("1", "p", ("change_case:english_lowercase", "{}"), ("detectable_format:number_bullet_lists", """{"num_bullets":0}"""));
        var result = IfEvalScorer.ScoreOne(example, "*this is lower case english text*\n** and it has no bullets **");
        Assert.True(result.FollowInstructionListLoose[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t ")]
    public void ScoreOne_BlankResponse_FollowsNothing(string response)
    {
        // no_comma and forbidden_words would pass on blank text; IFEval still fails a blank response.
        var example = Example("1", "p", ("punctuation:no_comma", "{}"), ("keywords:forbidden_words", """{"forbidden_words":["x"]}"""));
        var result = IfEvalScorer.ScoreOne(example, response);
        Assert.Equal([false, false], result.FollowInstructionListStrict);
        Assert.Equal([false, false], result.FollowInstructionListLoose);
    }

    [Fact]
    public void Score_Aggregates_FractionsAndPerTypeTable()
    {
        var a = Example("1", "a", ("punctuation:no_comma", "{}"), ("startend:quotation", "{}"));
        var b = Example("2", "b", ("punctuation:no_comma", "{}"));
        var report = IfEvalScorer.Score([a, b], new Dictionary<string, string> { ["a"] = "\"no commas\"", ["b"] = "x, y" });
        Assert.Equal(new IfEvalAccuracies(0.5, 2.0 / 3, 0.5, 2.0 / 3), report.Accuracies);
        var noComma = Assert.Single(report.PerInstruction, r => r.InstructionId == "punctuation:no_comma");
        Assert.Equal((2, 1, 1), (noComma.Count, noComma.StrictFollowed, noComma.LooseFollowed));
        Assert.Equal(3, report.InstructionCount);
    }

    [Fact]
    public void Score_MissingResponse_ThrowsNamingPrompt()
    {
        var a = Example("17", "What is love?", ("punctuation:no_comma", "{}"));
        var e = Assert.Throws<UserInputException>(() => IfEvalScorer.Score([a], new Dictionary<string, string>(), "r.jsonl"));
        Assert.Contains("r.jsonl", e.Message);
        Assert.Contains("What is love?", e.Message);
        Assert.Contains("17", e.Message);
    }

    [Fact]
    public void Checkers_ConcurrentCalls_AgreeWithSequential()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput);
        var sequential = examples.Select(e => IfEvalScorer.ScoreOne(e, e.Prompt).FollowInstructionListLoose).ToList();
        var parallel = new IReadOnlyList<bool>[examples.Count];
        Parallel.For(0, examples.Count, i => parallel[i] = IfEvalScorer.ScoreOne(examples[i], examples[i].Prompt).FollowInstructionListLoose);
        for (int i = 0; i < examples.Count; i++)
        {
            Assert.Equal(sequential[i], parallel[i]);
        }
    }
}
