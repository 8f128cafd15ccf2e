using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests;

public class FrozenJudgeSetTests
{
    private static (IReadOnlyList<WorldPrompt> Prompts, List<string> Samples) Draw(int count)
    {
        var seed = FrozenJudgeSet.PromptSeedFor(7);
        var prompts = Evaluation.HeldOutPrompts(count, seed);
        // Stand-ins for M_0's samples: teacher answers (follow) and near misses (fail), alternating.
        var samples = prompts.Select((p, i) => i % 2 == 0 ? Teacher.Answer(p, i) : Teacher.Flawed(p, 1, i)?.Response ?? "x").ToList();
        return (prompts, samples);
    }

    [Fact]
    public void FromSamples_SameInputs_SameCasesLabelledByTheVerifiers()
    {
        var (prompts, samples) = Draw(6);
        var a = FrozenJudgeSet.FromSamples(prompts, samples, FrozenJudgeSet.PromptSeedFor(7), 0.9);
        var b = FrozenJudgeSet.FromSamples(Evaluation.HeldOutPrompts(6, FrozenJudgeSet.PromptSeedFor(7)), samples, FrozenJudgeSet.PromptSeedFor(7), 0.9);
        Assert.Equal(a.Cases, b.Cases);
        Assert.Equal(Enumerable.Range(0, 6), a.Cases.Select(c => c.Id));
        Assert.Equal(prompts.Select((p, i) => p.Follows(samples[i])), a.Cases.Select(c => c.Follows));
        Assert.Equal(a.Cases.Count(c => c.Follows) / 6.0, a.FollowingRate, 9);
        Assert.All(prompts, p => Assert.Equal(WorldSplit.HeldOut, p.Split));
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesTheSameJudgeCases()
    {
        var (prompts, samples) = Draw(4);
        var set = FrozenJudgeSet.FromSamples(prompts, samples, FrozenJudgeSet.PromptSeedFor(7), 0.9);
        var dir = TestPaths.TempDir();
        try
        {
            Assert.Null(FrozenJudgeSet.Load(dir));
            set.Save(dir);
            var loaded = FrozenJudgeSet.Load(dir)!;
            Assert.Equal(set.Cases, loaded.Cases);
            var cases = loaded.JudgeCases();
            Assert.Equal(samples, cases.Select(c => c.Response));
            Assert.Equal(prompts.Select(p => p.Text), cases.Select(c => c.Prompt.Text));
            Assert.Equal(set.Cases.Select(c => c.Follows), cases.Select(c => c.Follows));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void JudgeCases_PromptNoLongerTheStoredOne_Throws()
    {
        var (prompts, samples) = Draw(2);
        var set = FrozenJudgeSet.FromSamples(prompts, samples, FrozenJudgeSet.PromptSeedFor(7), 0.9);
        var tampered = set with { Cases = [set.Cases[0] with { Prompt = "another prompt" }] };
        Assert.Throws<InvalidOperationException>(() => tampered.JudgeCases());
    }
}
