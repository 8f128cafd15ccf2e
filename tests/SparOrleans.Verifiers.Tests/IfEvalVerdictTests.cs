using SparOrleans.Core.Prompts;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Verifiers.Tests;

/// <summary>The run's IFEval truth (<see cref="IfEvalVerdict"/>) over prompts read by <see cref="PromptFile"/>.</summary>
public class IfEvalVerdictTests
{
    [Fact]
    public void PromptFile_ReadsIfEvalInput_541Prompts()
    {
        var entries = PromptFile.Read(TestPaths.IfEvalInput);
        Assert.Equal(541, entries.Count);
        Assert.Equal(541, entries.Select(e => e.PromptId).Distinct().Count());
        Assert.All(entries, e => Assert.Equal(e.InstructionIds.Count, e.KwargsJson.Count));
    }

    [Fact]
    public void FollowsAllStrict_AgreesWithScorer_ResponseIsPromptAndBlank()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput).ToDictionary(e => e.Key);
        var entries = PromptFile.Read(TestPaths.IfEvalInput);
        foreach (var entry in entries)
        {
            var example = examples[entry.Key!];
            foreach (var response in new[] { entry.Prompt, entry.Prompt.ToUpperInvariant(), " " })
            {
                var expected = IfEvalScorer.ScoreOne(example, response).FollowAllStrict;
                Assert.Equal<bool?>(expected, IfEvalVerdict.FollowsAllStrict(entry.InstructionIds, entry.KwargsJson, response));
            }
        }
        // Both verdicts occur, so the agreement is not all-false.
        Assert.Contains(entries, e => IfEvalVerdict.FollowsAllStrict(e.InstructionIds, e.KwargsJson, e.Prompt) == true);
    }

    [Fact]
    public void FollowsAllStrict_KnownVerdicts()
    {
        string[] noComma = ["punctuation:no_comma"];
        Assert.True(IfEvalVerdict.FollowsAllStrict(noComma, ["{}"], "no commas here"));
        Assert.False(IfEvalVerdict.FollowsAllStrict(noComma, ["{}"], "a, b"));
        // A null kwarg is unset, as IfEvalFiles reads it.
        Assert.True(IfEvalVerdict.FollowsAllStrict(["detectable_format:number_highlighted_sections"], ["""{"num_highlights": 1, "x": null}"""], "*one*"));
    }

    [Fact]
    public void FollowsAllStrict_NoIdsOrUnknownId_Null()
    {
        Assert.Null(IfEvalVerdict.FollowsAllStrict([], [], "anything"));
        Assert.Null(IfEvalVerdict.FollowsAllStrict(["sim:no_such_check"], ["{}"], "anything"));
        Assert.Null(IfEvalVerdict.FollowsAllStrict(["punctuation:no_comma", "sim:no_such_check"], ["{}", "{}"], "no commas"));
    }
}
