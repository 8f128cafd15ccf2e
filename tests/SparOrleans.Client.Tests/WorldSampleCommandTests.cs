using System.Text.Json.Nodes;
using SparOrleans.Client.Cli;
using SparOrleans.Verifiers.IfEval.Scoring;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public class WorldSampleCommandTests
{
    [Fact]
    public async Task Sample_Jsonl_PrintsOneIfEvalLikeObjectPerLine()
    {
        var (code, output, _) = await Spar("world", "sample", "--n", "6", "--seed", "3", "--split", "train", "--format", "jsonl");

        Assert.Equal(ExitCodes.Success, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        foreach (var line in lines)
        {
            var obj = JsonNode.Parse(line)!.AsObject();
            Assert.Equal(obj["instruction_id_list"]!.AsArray().Count, obj["kwargs"]!.AsArray().Count);
            Assert.Equal(obj["instruction_id_list"]!.AsArray().Count, obj["level"]!.GetValue<int>());
            Assert.False(string.IsNullOrWhiteSpace(obj["prompt"]!.GetValue<string>()));
            Assert.Contains(obj["family"]!.GetValue<string>(), new[] { "format", "content", "general" });
            Assert.NotNull(obj["task"]);
            Assert.Equal("train", obj["split"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(obj["teacher_response"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Sample_IfEvalOnly_TheCountAskedForWithoutSimChecks_AValidPromptFile()
    {
        var (code, output, _) = await Spar("world", "sample", "--n", "40", "--seed", "3", "--format", "jsonl", "--ifeval-only");

        Assert.Equal(ExitCodes.Success, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40, lines.Length);
        Assert.All(lines, line => Assert.All(JsonNode.Parse(line)!["instruction_id_list"]!.AsArray(),
            id => Assert.False(id!.GetValue<string>().StartsWith("sim:", StringComparison.Ordinal))));
        var file = Path.Combine(Path.GetTempPath(), $"spar-ifeval-only-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(file, output);
            Assert.Equal(40, SparOrleans.Core.Prompts.PromptFile.Read(file).Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Sample_SameSeed_SameOutput_DifferentSeed_DifferentOutput()
    {
        var a = await Spar("world", "sample", "--n", "4", "--seed", "9", "--format", "jsonl");
        var b = await Spar("world", "sample", "--n", "4", "--seed", "9", "--format", "jsonl");
        var c = await Spar("world", "sample", "--n", "4", "--seed", "10", "--format", "jsonl");

        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual(a.Out, c.Out);
    }

    [Fact]
    public async Task Sample_HeldOutAtLevel_EveryPromptHasThatLevel()
    {
        var (code, output, _) = await Spar("world", "sample", "--n", "5", "--split", "heldout", "--level", "4", "--format", "jsonl");

        Assert.Equal(ExitCodes.Success, code);
        Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), line =>
        {
            var obj = JsonNode.Parse(line)!.AsObject();
            Assert.Equal(4, obj["level"]!.GetValue<int>());
            Assert.Equal("heldout", obj["split"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task Sample_Text_ShowsPromptIdsAndTeacherAnswer()
    {
        var (code, output, _) = await Spar("world", "sample", "--n", "2", "--task", "letter_copies");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("prompt: Write ", output);
        Assert.Contains("sim:letter_copies", output);
        Assert.Contains("teacher:", output);
    }

    [Theory]
    [InlineData("--split", "dev", "--split must be train or heldout")]
    [InlineData("--level", "7", "--level must be between 1 and 5")]
    [InlineData("--n", "0", "--n must be between 1 and 100000")]
    [InlineData("--task", "poem", "--task must be one of")]
    public async Task Sample_BadValue_ExitsTwoWithOneClearError(string option, string value, string message)
    {
        var (code, output, error) = await Spar("world", "sample", option, value);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task Sample_LevelTheTaskCannotHave_ExitsTwo()
    {
        var (code, _, error) = await Spar("world", "sample", "--task", "letter_copies", "--level", "3");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("cannot have --level 3", error);
    }

    [Fact]
    public async Task Stats_Json_ReportsFullAgreementAndBothSimilarities()
    {
        var (code, output, _) = await Spar("world", "stats", "--n", "60", "--seed", "2", "--format", "json");

        Assert.Equal(ExitCodes.Success, code);
        var obj = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(1.0, obj["answer_pass_rate"]!.GetValue<double>());
        Assert.Equal(1.0, obj["judge_agreement"]!.GetValue<double>());
        Assert.InRange(obj["refinement_similarity"]!.GetValue<double>(), 0.5, 1.0);
        Assert.InRange(obj["independent_similarity"]!.GetValue<double>(), 0.1, 1.0);
    }

    [Fact]
    public async Task Benchmark_Output_WritesAnIfEvalInputFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"world-bench-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (code, _, error) = await Spar("world", "benchmark", "--n", "20", "--output", path);

            Assert.Equal(ExitCodes.Success, code);
            Assert.Contains("wrote 20 held-out prompts", error);
            Assert.Equal(20, IfEvalFiles.ReadInput(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
