using SparOrleans.Models.Evaluation;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using SparOrleans.Core.Formats;
using SparOrleans.Simulator;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>M_0 and R_0 trained once with the tiny simulator options: a real refiner checkpoint in seconds.</summary>
public sealed class TinyRefinerFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("spar-llmbar-").FullName;

    public string RefinerDir => Path.Combine(Root, "refiner-0");

    public async Task InitializeAsync()
    {
        var actorDir = Path.Combine(Root, "actor-0");
        await Bootstrap.TrainActorAsync(SimulatorOptions.Tiny, actorDir);
        await Bootstrap.TrainRefinerAsync(SimulatorOptions.Tiny, actorDir, RefinerDir);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class EvalLlmBarCommandTests(TinyRefinerFixture fixture) : IClassFixture<TinyRefinerFixture>, IDisposable
{
    private static readonly string[] Subsets =
        ["Natural", "Adversarial_GPTInst", "Adversarial_GPTOut", "Adversarial_Manual", "Adversarial_Neighbor"];

    private readonly string _dir = Directory.CreateTempSubdirectory("spar-llmbar-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task LlmBar_TinyRefinerOnShippedSlice_ReportsEverySubsetAndTheAveragesWithinRange()
    {
        var (code, output, error) = await Spar("eval", "llmbar", "--data", LlmBarDir(), "--model", fixture.RefinerDir,
            "--limit", "2", "--max-new-tokens", "8", "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal("compact", report.GetProperty("role_format").GetString());
        Assert.Equal(1, report.GetProperty("votes").GetInt32());
        var subsets = report.GetProperty("subsets").EnumerateArray().ToList();
        Assert.Equal(Subsets, subsets.Select(s => s.GetProperty("subset").GetString()));
        foreach (var row in subsets.Append(report.GetProperty("adversarial_average")).Append(report.GetProperty("average")))
        {
            Assert.InRange(row.GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.InRange(row.GetProperty("f1").GetDouble(), 0, 1);
        }
        Assert.All(subsets, s => Assert.Equal(2, s.GetProperty("pairs").GetInt32()));
        Assert.All(subsets, s => Assert.Equal(4, s.GetProperty("items").GetInt32()));
        Assert.Equal(8, report.GetProperty("adversarial_average").GetProperty("pairs").GetInt32());
        Assert.Contains("judging 10 pairs", error);
    }

    [Fact]
    public async Task LlmBar_MajorityVoteText_PrintsATableRowPerSubset()
    {
        var (code, output, error) = await Spar("eval", "llmbar", "--data", LlmBarDir(), "--model", fixture.RefinerDir,
            "--limit", "1", "--max-new-tokens", "8", "--votes", "3");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("majority voting@3", output);
        Assert.All(Subsets.Append("Adversarial average").Append("Average"), s => Assert.Contains(s, output));
    }

    [Theory]
    [InlineData("[{\"input\": \"x\", \"output_1\": \"a\", \"output_2\": \"b\"}]", "entry 0 needs \"label\" 1 or 2")]
    [InlineData("[{\"input\": \"x\", \"output_1\": \"a\", \"label\": 1}]", "entry 0 needs a string \"output_2\"")]
    [InlineData("{\"input\": \"x\"}", "expected a JSON array")]
    [InlineData("[{\"input\": ", "not valid JSON")]
    public async Task LlmBar_MalformedFile_ExitsWithUserErrorNamingTheFile(string content, string message)
    {
        File.WriteAllText(Path.Combine(_dir, "Natural.json"), content);

        var (code, _, error) = await Spar("eval", "llmbar", "--data", _dir, "--model", fixture.RefinerDir);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error: Natural.json: ", error.Trim());
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task LlmBar_NoJsonFiles_ExitsWithUserError()
    {
        var (code, _, error) = await Spar("eval", "llmbar", "--data", _dir, "--model", fixture.RefinerDir);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("no LLMBar *.json files", error);
    }

    [Fact]
    public void Score_KnownVerdicts_GivesPerJudgmentAccuracyYesF1AndMacroAverages()
    {
        var pairs = new[]
        {
            new LlmBarPair("Natural", 0, "i", "good", "bad", 1),
            new LlmBarPair("Natural", 1, "i", "bad", "good", 2),
            new LlmBarPair("Adversarial_X", 0, "i", "good", "bad", 1),
        };
        var items = LlmBar.PointWise(pairs);
        // Natural: Yes/No right, then Yes on the bad one and Invalid on the good one; Adversarial_X: Yes on both.
        var verdicts = new[] { Verdict.Yes, Verdict.No, Verdict.Yes, Verdict.Invalid, Verdict.Yes, Verdict.Yes };

        var (subsets, adversarial, average) = LlmBar.Score(items, verdicts);

        Assert.Equal(0.5, subsets[0].Accuracy, 9);
        Assert.Equal(0.5, subsets[0].F1, 9); // precision 1/2, recall 1/2
        Assert.Equal(1, subsets[0].Invalid);
        Assert.Equal(0.5, subsets[1].Accuracy, 9);
        Assert.Equal(2.0 / 3, subsets[1].F1, 9); // precision 1/2, recall 1
        Assert.Equal(0.5, adversarial!.Accuracy, 9);
        Assert.Equal((0.5 + 2.0 / 3) / 2, average.F1, 9);
        Assert.Equal(3, average.Pairs);
    }

    [Theory]
    [InlineData("auto", "compact", "compact")]
    [InlineData("auto", "llama3", "paper")]
    [InlineData("paper", "compact", "paper")]
    public void ChooseFormat_ByChatTemplate_PicksTheFormatTheModelWasTrainedIn(string name, string template, string expected) =>
        Assert.Equal(expected, EvalLlmBarCommand.ChooseFormat(name, template).Name);

    private static string LlmBarDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SparOrleans.sln")))
        {
            dir = dir.Parent;
        }
        return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "data", "llmbar"));
    }
}
