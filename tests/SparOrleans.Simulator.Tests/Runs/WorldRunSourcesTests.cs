using SparOrleans.Core.Datasets;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator.Runs;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests.Runs;

public sealed class WorldRunSourcesTests
{
    private static RunSpec Spec(int seed = 3, int prompts = 6, string preset = "tiny", string json = "{}") =>
        new("r", "out", seed, 1, prompts, "bfs", preset, json, 2);

    [Theory]
    [InlineData("default")]
    [InlineData("quick")]
    [InlineData("tiny")]
    public void Preset_KnownName_ReturnsThatPreset(string name)
    {
        var expected = name switch { "quick" => SimulatorOptions.Quick, "tiny" => SimulatorOptions.Tiny, _ => SimulatorOptions.Default };

        Assert.Same(expected, SimulatorOptions.Preset(name));
        Assert.Contains(name, SimulatorOptions.PresetNames);
    }

    [Fact]
    public void Preset_UnknownName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => SimulatorOptions.Preset("huge"));

        Assert.Contains("default, quick, tiny", error.Message);
    }

    [Fact]
    public void RunOptionsOf_NoJson_IsThePresetAtTheRunSeed()
    {
        Assert.Equal(SimulatorOptions.Tiny with { Seed = 9 }, RunOptions.Of(Spec(seed: 9, preset: "tiny")));
        Assert.Equal(SimulatorOptions.Quick with { Seed = 9 }, RunOptions.Of(Spec(seed: 9, preset: "quick")));
    }

    [Fact]
    public void Prompts_SameSpecAndIteration_AreTheComposersDrawAtTheRunSeed()
    {
        var source = new WorldPromptSource();
        var prompts = source.Prompts(Spec(seed: 3, prompts: 6), 2);
        var drawn = new PromptComposer().Sample(6, 3 * 7919 + 2, WorldSplit.Train);

        Assert.Equal(prompts, source.Prompts(Spec(seed: 3, prompts: 6), 2), new PromptSpecComparer());
        Assert.Equal(["t2-p0000", "t2-p0001", "t2-p0002", "t2-p0003", "t2-p0004", "t2-p0005"], prompts.Select(p => p.PromptId));
        Assert.Equal(drawn.Select(p => p.Text), prompts.Select(p => p.Instruction));
        Assert.NotEqual(prompts[0].Instruction, source.Prompts(Spec(seed: 3, prompts: 6), 3)[0].Instruction);
    }

    [Fact]
    public void Follows_TeacherAnswerAndEmptyResponse_TrueAndFalse()
    {
        var verifier = new WorldResponseVerifier();
        var world = new PromptComposer().Sample(8, 5, WorldSplit.Train);
        var prompts = new WorldPromptSource().Prompts(Spec(seed: 0, prompts: 8), 5);

        Assert.All(prompts.Zip(world), pair => Assert.True(verifier.Follows(Spec(), pair.First, Teacher.Answer(pair.Second))));
        Assert.Contains(prompts, p => verifier.Follows(Spec(), p, "") == false);
    }

    [Fact]
    public void Follows_UnknownInstructionId_IsUnknown()
    {
        var prompt = new PromptSpec("p", "Say hi.", ["sim:nothing_like_it"], ["{}"]);

        Assert.Null(new WorldResponseVerifier().Follows(Spec(), prompt, "hi"));
    }

    [Fact]
    public void MethodSettings_SpecOptions_AreTheSimulatorOptionsSettings()
    {
        var options = SimulatorOptions.Quick with { Seed = 4 };
        var settings = new SimulatorMethodSettings().Of(Spec(json: RunOptions.ToJson(options)));

        Assert.Equal(RunOptions.Sampling(options), settings.Sampling);
        Assert.Equal(options.InitialVoting, settings.InitialVoting);
        Assert.Equal(options.TreeSearch, settings.TreeSearch);
        Assert.Equal(options.TreeVoting, settings.TreeVoting);
        Assert.Equal(options.RftVotes, settings.RftVotes);
        Assert.Equal(options.RefinerYesShare, settings.RftYesShare);
        Assert.Equal(0.5, new SimulatorMethodSettings().Of(Spec(json: RunOptions.ToJson(options with { RftYesShare = 0.5 }))).RftYesShare);
        Assert.Null(settings.RftCaps);
        Assert.DoesNotContain(nameof(SimulatorOptions.RftCaps), RunOptions.ToJson(options));
        var caps = new RftCaps(81, 0, 0, 1000, 1000);
        Assert.Equal(caps, new SimulatorMethodSettings().Of(Spec(json: RunOptions.ToJson(options with { RftCaps = caps }))).RftCaps);
    }

    private sealed class PromptSpecComparer : IEqualityComparer<PromptSpec>
    {
        public bool Equals(PromptSpec? x, PromptSpec? y) =>
            x!.PromptId == y!.PromptId && x.Instruction == y.Instruction
            && x.InstructionIds.SequenceEqual(y.InstructionIds) && x.KwargsJson.SequenceEqual(y.KwargsJson);

        public int GetHashCode(PromptSpec obj) => obj.PromptId.GetHashCode();
    }
}
