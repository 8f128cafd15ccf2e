using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Errors;
using SparOrleans.Interfaces.Runs;
using SparOrleans.OpenAi.Client;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// <c>spar run</c> on models given as directories and prompts given as a file: locally, and with generation on a
/// <c>spar serve</c> in another process that is killed in the middle of judging and started again.
/// </summary>
public sealed class ModelRunTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spar-model-run-").FullName;

    private string Home => Path.Combine(_root, "home");

    private const int Prompts = 10;

    private const int Samples = 3;

    private const int Votes = 5;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>IFEval-format prompts (extra fields kept as the prompt file allows).</summary>
    private string PromptFile(string name, int count)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["key"] = 100 + i,
            ["prompt"] = $"Write {i + 2} sentences about birds. Do not use any commas.",
            ["instruction_id_list"] = new[] { "punctuation:no_comma" },
            ["kwargs"] = new[] { new Dictionary<string, object>() },
            ["source"] = "test",
        })));
        return path;
    }

    /// <summary>Budgets for a tiny model: short generations, voting@5 so judging takes a while, small training batches.</summary>
    private string Options()
    {
        var path = Path.Combine(_root, "options.json");
        File.WriteAllText(path, """
            {"Sampling": {"ActorMaxTokens": 16, "JudgeMaxTokens": 48, "RefineMaxTokens": 16},
             "InitialVoting": {"Samples": 5},
             "TreeSearch": {"BranchFactor": 2, "KeepBest": 1, "MaxDepth": 1, "MaxExpansions": 2},
             "Dpo": {"LearningRate": 1e-4, "BatchSize": 4, "MicroBatchSize": 4},
             "Rft": {"LearningRate": 1e-4, "Epochs": 1, "BatchSize": 4, "MicroBatchSize": 4},
             "EvalMaxNewTokens": 8, "Threads": 1}
            """);
        return path;
    }

    private string[] RunArguments(string runId, params string[] extra) =>
    [
        "run", "--actor", checkpoint.ModelDir, "--refiner", checkpoint.ModelDir, "--prompts", PromptFile("prompts.jsonl", Prompts),
        "--eval-ifeval", PromptFile("heldout.jsonl", 4), "--role-format", "compact", "--iterations", "2",
        "--samples", Samples.ToString(), "--home", Home, "--run-id", runId, "--options", Options(), .. extra,
    ];

    [Fact]
    public async Task Run_LocalGeneration_TwoIterationsWithIfEvalFiguresAndResponses()
    {
        var (code, output, error) = await Spar(RunArguments("local"));

        Assert.True(code == ExitCodes.Success, error + output);
        var run = await new RunStore(Path.Combine(Home, ".state")).GetAsync("local", CancellationToken.None);
        Assert.Equal(RunStatusKind.Completed, run.Status);
        Assert.Equal([0, 1, 2], run.Reports.Select(r => r.Iteration));
        // A fresh random model writes anything but commas rarely: its IFEval figures are measured numbers, not NaN.
        Assert.All(run.Reports, r => Assert.InRange(r.ActorHeldout.InstructionLoose, 0, 1));
        Assert.All(run.Reports, r => Assert.True(double.IsNaN(r.RefinerJudgment.Accuracy), "no --eval-llmbar: the judge is not measured"));
        for (var t = 0; t <= 2; t++)
        {
            var responses = File.ReadAllLines(Path.Combine(Home, "local", "eval", $"actor-{t}-ifeval-responses.jsonl"));
            Assert.Equal(4, responses.Length);
        }
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(Home, "local", "summary.json")));
        var first = summary.RootElement.GetProperty("iterations")[0];
        Assert.Equal(JsonValueKind.Null, first.GetProperty("refiner_judgment").GetProperty("accuracy").ValueKind);
        Assert.Equal(JsonValueKind.Number, first.GetProperty("actor_heldout").GetProperty("prompt_strict").ValueKind);
    }

    [Fact]
    public async Task Run_OnSparServe_ServerKilledMidJudgingAndRestarted_CompletesWithNothingLostOrDuplicated()
    {
        var serveArguments = new[] { "--model", $"actor={checkpoint.ModelDir}", "--model", $"refiner={checkpoint.ModelDir}", "--max-batch", "1" };
        var server = await ServeProcess.StartAsync([.. serveArguments, "--port", "0"]);
        var url = server.Url;
        ServeProcess? restarted = null;
        try
        {
            var running = Spar(RunArguments("served", "--generation", $"openai={url}"));
            var store = new RunStore(Path.Combine(Home, ".state"));
            var judging = await WaitForAsync(async () => await Phase(store, "served") is (RunPhase.Judging, 1), running, TimeSpan.FromMinutes(3));
            Assert.True(judging, "the run never reached judging");
            server.Kill();
            var killedAt = DateTime.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(2));
            restarted = await ServeProcess.StartAsync([.. serveArguments, "--port", url.Port.ToString()]);
            Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(20), "the server took more than 20 s to come back");

            var (code, output, error) = await running.WaitAsync(TimeSpan.FromMinutes(5));

            Assert.True(code == ExitCodes.Success, error + output);
            var run = await store.GetAsync("served", CancellationToken.None);
            Assert.Equal(RunStatusKind.Completed, run.Status);
            Assert.Equal([0, 1, 2], run.Reports.Select(r => r.Iteration));
            for (var t = 1; t <= 2; t++)
            {
                var prompts = await store.GetPromptsAsync(run, t, CancellationToken.None);
                Assert.Equal(Prompts, prompts.Count);
                Assert.Equal(Prompts, prompts.Select(p => p.PromptId).Distinct().Count());
                Assert.All(prompts, p =>
                {
                    // Exactly K samples, each judged exactly once by voting@5: nothing lost, nothing twice.
                    Assert.Equal(Samples, p.State.Samples.Count);
                    Assert.Equal(Samples, p.State.Judged.Count);
                    Assert.All(p.State.Judged, j => Assert.Equal(Votes, j.Vote.Samples.Count));
                    Assert.NotNull(p.State.Outcome);
                });
            }
            // Iteration 2 generated with the trained versions: the restarted server was asked to load them by name.
            using var client = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = url, MaxRetries = 0 });
            var served = (await client.ListModelsAsync()).Select(m => m.Id).ToList();
            Assert.Contains("served-actor-1", served);
            Assert.Contains("served-refiner-1", served);
        }
        finally
        {
            server.Dispose();
            restarted?.Dispose();
        }
    }

    [Theory]
    [InlineData("missing-actor", "--actor")]
    [InlineData("bad-prompts", "bad.jsonl:2: ")]
    [InlineData("unreachable", "127.0.0.1:9")]
    [InlineData("unknown-model", "does not serve model 'nobody'")]
    [InlineData("key-required", "wants an API key")]
    [InlineData("prompt-count-in-simulator", "needs --actor")]
    public async Task Run_BadInput_OneErrorLineExit2_NothingStored(string kind, string expected)
    {
        string[] arguments = kind switch
        {
            "missing-actor" => ["run", "--actor", Path.Combine(_root, "nope"), "--refiner", checkpoint.ModelDir, "--prompts", PromptFile("p.jsonl", 3)],
            "bad-prompts" => ["run", "--actor", checkpoint.ModelDir, "--refiner", checkpoint.ModelDir, "--prompts", BadPromptFile()],
            "unreachable" => ["run", "--actor", checkpoint.ModelDir, "--refiner", checkpoint.ModelDir, "--prompts", PromptFile("p.jsonl", 3),
                "--generation", "openai=http://127.0.0.1:9/v1"],
            "unknown-model" => ["run", "--actor", checkpoint.ModelDir, "--refiner", checkpoint.ModelDir, "--prompts", PromptFile("p.jsonl", 3),
                "--generation", "openai=URL", "--served-actor", "nobody"],
            "key-required" => ["run", "--actor", checkpoint.ModelDir, "--refiner", checkpoint.ModelDir, "--prompts", PromptFile("p.jsonl", 3),
                "--generation", "openai=URL"],
            _ => ["run", "--prompts", PromptFile("p.jsonl", 3)],
        };
        ServeProcess? server = null;
        if (kind is "unknown-model" or "key-required")
        {
            var key = kind == "key-required" ? new Dictionary<string, string> { [ServeCommand.ApiKeyVariable] = "s3cret" } : new Dictionary<string, string>();
            server = await ServeProcess.StartAsync(key, ["--model", $"actor={checkpoint.ModelDir}", "--model", $"refiner={checkpoint.ModelDir}", "--port", "0"]);
            arguments = [.. arguments.Select(a => a == "openai=URL" ? $"openai={server.Url}" : a)];
        }
        try
        {
            var (code, output, error) = await Spar([.. arguments, "--home", Home, "--run-id", "bad"]);

            Assert.Equal(ExitCodes.UserError, code);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: ", line);
            Assert.Contains(expected, line);
            Assert.Equal("", output);
            Assert.False(Directory.Exists(Path.Combine(Home, ".state")) && Directory.EnumerateFiles(Path.Combine(Home, ".state"), "*", SearchOption.AllDirectories).Any(),
                "a refused run stored state");
        }
        finally
        {
            server?.Dispose();
        }
    }

    private string BadPromptFile()
    {
        var path = Path.Combine(_root, "bad.jsonl");
        File.WriteAllLines(path, ["{\"prompt\": \"Say hi.\"}", "{\"prompt\": 3}"]);
        return path;
    }

    private static async Task<(RunPhase, int)?> Phase(RunStore store, string runId)
    {
        try
        {
            var run = await store.GetAsync(runId, CancellationToken.None);
            return (run.Phase, run.Iteration);
        }
        catch (UserInputException)
        {
            return null;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds, <paramref name="running"/> ends, or the time is up.</summary>
    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, Task running, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until && !running.IsCompleted)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }
}
