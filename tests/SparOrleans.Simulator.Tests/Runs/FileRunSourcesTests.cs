using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Simulator.Tests.Runs;

/// <summary>The real-data run sources over IFEval's input file (../shared next to the solution folder).</summary>
public sealed class FileRunSourcesTests
{
    private static RunSpec Spec(int seed, int prompts) => new("r", "out", seed, 2, prompts, "bfs", "tiny", "{}", 2);

    private static string IfEvalInput
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SparOrleans.sln")))
            {
                dir = dir.Parent;
            }
            Assert.NotNull(dir);
            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "ifeval", "input_data.jsonl"));
        }
    }

    [Fact]
    public void Prompts_IfEvalFile_DeterministicPerIterationWithStableKeyIds()
    {
        var source = new FilePromptSource(IfEvalInput);
        var first = source.Prompts(Spec(3, 40), 1);

        Assert.Equal(first.Select(p => p.PromptId), new FilePromptSource(IfEvalInput).Prompts(Spec(3, 40), 1).Select(p => p.PromptId));
        Assert.Equal(40, first.Select(p => p.PromptId).Distinct().Count());
        Assert.NotEqual(first.Select(p => p.PromptId), source.Prompts(Spec(3, 40), 2).Select(p => p.PromptId));
        Assert.All(first, p => Assert.StartsWith("k", p.PromptId));
        Assert.Equal(541, source.Prompts(Spec(3, 1000), 1).Count);
    }

    [Fact]
    public void Follows_IfEvalPrompts_AgreesWithScorer_UnknownIdIsNull()
    {
        var verifier = new IfEvalResponseVerifier();
        var examples = IfEvalFiles.ReadInput(IfEvalInput).ToDictionary(e => "k" + e.Key);

        foreach (var prompt in new FilePromptSource(IfEvalInput).Prompts(Spec(0, 60), 1))
        {
            Assert.Equal<bool?>(IfEvalScorer.ScoreOne(examples[prompt.PromptId], prompt.Instruction).FollowAllStrict, verifier.Follows(Spec(1, 1), prompt, prompt.Instruction));
        }
        Assert.Null(verifier.Follows(Spec(1, 1), new PromptSpec("p", "Say hi.", ["sim:nothing_like_it"], ["{}"]), "hi"));
        Assert.Null(verifier.Follows(Spec(1, 1), new PromptSpec("p", "Say hi.", [], []), "hi"));
    }
}
