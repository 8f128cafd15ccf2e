using System.Text.Json.Nodes;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Verifiers.Tests;

/// <summary>All 541 official prompts scored end to end against generated and hand-written responses.</summary>
public class FullDatasetTests
{
    [Fact]
    public void Score_ResponseIsPrompt_MatchesOfficialCodeWithinOnePromptOrInstruction()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput);
        var report = IfEvalScorer.Score(examples, examples.ToDictionary(e => e.Prompt, e => e.Prompt));
        // google-research's checks (langdetect seeded, punkt with this port's parameters) give 0.2477 / 0.3609 /
        // 0.2976 / 0.4113 on this file; with langdetect ported exactly, loose agrees too.
        var a = report.Accuracies;
        Assert.Equal(0.2477, a.PromptStrict, 0.0005);
        Assert.Equal(0.3609, a.InstructionStrict, 0.0005);
        Assert.Equal(0.2976, a.PromptLoose, 0.0005);
        Assert.Equal(0.4113, a.InstructionLoose, 0.0005);
        Assert.Equal(25, report.PerInstruction.Count);
        Assert.True(a.PromptLoose >= a.PromptStrict && a.InstructionLoose >= a.InstructionStrict);
    }

    [Fact]
    public void Score_BlankResponses_AllZero()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput);
        var report = IfEvalScorer.Score(examples, examples.ToDictionary(e => e.Prompt, _ => " "));
        Assert.Equal(new IfEvalAccuracies(0, 0, 0, 0), report.Accuracies);
    }

    [Fact]
    public void Score_HandWrittenResponses_KnownVerdicts()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput).ToDictionary(e => e.Key);
        var cases = File.ReadLines(TestPaths.TestData("handwritten_responses.jsonl"))
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var example = examples[c["key"]!.ToString()];
            var result = IfEvalScorer.ScoreOne(example, c["response"]!.GetValue<string>());
            var strict = c["strict"]!.AsArray().Select(n => n!.GetValue<bool>()).ToList();
            var loose = c["loose"]!.AsArray().Select(n => n!.GetValue<bool>()).ToList();
            Assert.True(strict.SequenceEqual(result.FollowInstructionListStrict),
                $"key {example.Key} strict: expected [{string.Join(",", strict)}], got [{string.Join(",", result.FollowInstructionListStrict)}]");
            Assert.True(loose.SequenceEqual(result.FollowInstructionListLoose),
                $"key {example.Key} loose: expected [{string.Join(",", loose)}], got [{string.Join(",", result.FollowInstructionListLoose)}]");
        }
    }
}
