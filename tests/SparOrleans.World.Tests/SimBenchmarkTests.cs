using SparOrleans.Verifiers.IfEval.Scoring;
using SparOrleans.World.Benchmark;
using SparOrleans.World.Composition;
using SparOrleans.World.Constraints;
using SparOrleans.World.Teaching;

namespace SparOrleans.World.Tests;

public class SimBenchmarkTests
{
    private static readonly IReadOnlyList<WorldPrompt> HeldOut = SimBenchmark.HeldOut();

    [Fact]
    public void HeldOut_Default_Has500DistinctIfEvalOnlyPrompts()
    {
        Assert.Equal(500, HeldOut.Count);
        Assert.Equal(500, HeldOut.Select(p => p.Text).Distinct().Count());
        Assert.All(HeldOut, p => Assert.DoesNotContain(p.InstructionIds, WorldInstructions.IsSim));
        Assert.All(HeldOut, p => Assert.Equal(WorldSplit.HeldOut, p.Split));
        Assert.Equal(5, HeldOut.Select(p => p.Level).Distinct().Count());
    }

    [Fact]
    public void HeldOut_SameArguments_SameSet()
    {
        Assert.Equal(SimBenchmark.HeldOut(50, 9).Select(p => p.Text), SimBenchmark.HeldOut(50, 9).Select(p => p.Text));
    }

    [Fact]
    public void WriteInputJsonl_HeldOut_ReadsBackThroughTheIfEvalReader()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sim-heldout-{Guid.NewGuid():N}.jsonl");
        try
        {
            SimBenchmark.WriteInputJsonl(path, SimBenchmark.ToIfEval(HeldOut));

            var read = IfEvalFiles.ReadInput(path);

            Assert.Equal(HeldOut.Count, read.Count);
            Assert.Equal(HeldOut[7].Text, read[7].Prompt);
            Assert.Equal(HeldOut[7].InstructionIds, read[7].InstructionIds);
            Assert.Equal(HeldOut[7].Kwargs().Select(k => k.ToJsonString()), read[7].Kwargs.Select(k => k.ToJsonString()));
            Assert.Equal("1007", read[7].Key);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Score_TeacherAnswers_AllStrictAndLoose()
    {
        var report = IfEvalScorer.Score(SimBenchmark.ToIfEval(HeldOut).Select((e, i) => (e, Teacher.Answer(HeldOut[i]))));

        Assert.Equal(1.0, report.Accuracies.PromptStrict);
        Assert.Equal(1.0, report.Accuracies.InstructionLoose);
    }

    [Fact]
    public void Score_NearMisses_PromptStrictDropsByTheirShare()
    {
        var pairs = SimBenchmark.ToIfEval(HeldOut).Select((e, i) =>
            (e, i % 2 == 0 ? Teacher.Answer(HeldOut[i]) : Teacher.Flawed(HeldOut[i], 1, i)?.Response ?? "")).ToList();

        var report = IfEvalScorer.Score(pairs);

        Assert.InRange(report.Accuracies.PromptStrict, 0.49, 0.51);
    }
}
