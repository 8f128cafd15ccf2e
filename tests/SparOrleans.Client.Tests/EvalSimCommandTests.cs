using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.World.Benchmark;
using SparOrleans.World.Teaching;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public sealed class EvalSimCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spar-eval-sim-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sim_TeacherResponses_ScorePerfectly()
    {
        var prompts = SimBenchmark.HeldOut(20);
        var file = Path.Combine(_dir, "teacher.jsonl");
        File.WriteAllLines(file, prompts.Select((p, i) => JsonSerializer.Serialize(new { prompt = p.Text, response = Teacher.Answer(p, i) })));

        var (code, output, error) = await Spar("eval", "sim", "--responses", file, "--n", "20", "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        using var json = JsonDocument.Parse(output);
        foreach (var key in new[] { "prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose" })
        {
            Assert.Equal(1.0, json.RootElement.GetProperty(key).GetDouble());
        }
    }

    [Fact]
    public async Task Sim_MissingResponses_ExitsWithUserErrorNamingThePrompt()
    {
        var file = Path.Combine(_dir, "partial.jsonl");
        var first = SimBenchmark.HeldOut(3)[0];
        File.WriteAllLines(file, [JsonSerializer.Serialize(new { prompt = first.Text, response = "x" })]);

        var (code, _, error) = await Spar("eval", "sim", "--responses", file, "--n", "3");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
    }

    [Theory]
    [InlineData(new string[] { "eval", "sim" }, "exactly one of --responses")]
    [InlineData(new string[] { "eval", "sim", "--model", "/nonexistent/model" }, "no model directory")]
    public async Task Sim_BadArguments_ExitWithUserError(string[] args, string message)
    {
        var (code, _, error) = await Spar(args);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(message, error);
    }
}
