using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public sealed class RunCommandsTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-home-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public void ModelHostFor_RunOnCuda_DecodesThereOnOneWorkerAndKeepsGivenWorkers()
    {
        // The in-process silo's model host defaulted to the CPU whatever device the run trained on.
        var options = SparOrleans.Simulator.SimulatorOptions.Preset("tiny") with { Device = "cuda" };
        var spec = new SparOrleans.Interfaces.Runs.RunSpec("r", _home, 1, 1, options.IterationPrompts, "bfs", "tiny",
            SparOrleans.Simulator.Runs.RunOptions.ToJson(options), options.SamplesPerPrompt);
        var host = RunCommands.ModelHostFor(spec, null);
        Assert.Equal("cuda", host.Device);
        Assert.Equal(1, host.EffectiveWorkers);
        var onCpu = RunCommands.ModelHostFor(spec with { SimulatorOptionsJson = "{}" }, new() { Workers = 3 });
        Assert.Equal("cpu", onCpu.Device);
        Assert.Equal(3, onCpu.EffectiveWorkers);
        Assert.Equal(Environment.ProcessorCount, RunCommands.ModelHostFor(spec with { SimulatorOptionsJson = "{}" }, null).EffectiveWorkers);
    }

    [Fact]
    public async Task Run_TinyPresetOneIteration_CompletesAndIsListedWithSummary()
    {
        var (code, output, error) = await Spar("run", "--preset", "tiny", "--iterations", "1", "--run-id", "cli-tiny", "--home", _home, "--format", "json", "--web-port", "0");
        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        Assert.Contains("run page: http://127.0.0.1:", error);
        // The silo advertised itself to `spar watch` while it ran, and withdrew when it stopped.
        Assert.False(File.Exists(SparOrleans.Silo.Hosting.SiloEndpoints.PathOf(Path.Combine(_home, ".state"), "cli-tiny")));

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_home, "cli-tiny", "summary.json")));
        var iterations = summary.RootElement.GetProperty("iterations");
        Assert.Equal(2, iterations.GetArrayLength());
        foreach (var entry in iterations.EnumerateArray())
        {
            foreach (var key in new[] { "prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose" })
            {
                Assert.InRange(entry.GetProperty("actor_heldout").GetProperty(key).GetDouble(), 0, 1);
            }
            Assert.InRange(entry.GetProperty("refiner_judgment").GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.True(entry.TryGetProperty("dpo_pairs", out _));
            Assert.True(entry.TryGetProperty("rft_examples", out _));
            Assert.True(entry.GetProperty("seconds").GetDouble() > 0);
        }
        using var printed = JsonDocument.Parse(output);
        Assert.Equal("completed", printed.RootElement.GetProperty("status").GetString(), ignoreCase: true);

        var (listCode, list, _) = await Spar("list", "--home", _home, "--format", "json");
        Assert.Equal(ExitCodes.Success, listCode);
        using var runs = JsonDocument.Parse(list);
        var run = Assert.Single(runs.RootElement.EnumerateArray());
        Assert.Equal("cli-tiny", run.GetProperty("id").GetString());
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(2, run.GetProperty("iteration").GetInt32());
        Assert.True(run.TryGetProperty("created", out _));

        var (statusCode, status, _) = await Spar("status", "cli-tiny", "--home", _home);
        Assert.Equal(ExitCodes.Success, statusCode);
        Assert.Contains("cli-tiny: completed", status);
        Assert.Contains("Search and seconds per phase", status);
        Assert.Contains("bootstrap_actor", status);
        Assert.Contains("actor_dpo", status);
    }

    [Theory]
    [InlineData("--prompts", "0", "--prompts must be between")]
    [InlineData("--samples", "99", "--samples must be between")]
    [InlineData("--run-id", "../escape", "Run id '../escape'")]
    public async Task Run_BadValue_ExitsWithUserErrorNamingIt(string option, string value, string message)
    {
        var (code, _, error) = await Spar("run", option, value, "--home", _home);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task Resume_UnknownRun_ExitsWithUserErrorPointingToList()
    {
        var (code, _, error) = await Spar("resume", "nope", "--home", _home);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("spar list", error);
    }

    [Fact]
    public async Task ListAndStatus_NoRuns_SayHowToStart()
    {
        var (listCode, list, _) = await Spar("list", "--home", _home, "--format", "json");
        Assert.Equal(ExitCodes.Success, listCode);
        Assert.Equal("[]", list.Trim());
        var (statusCode, _, error) = await Spar("status", "--home", _home);
        Assert.Equal(ExitCodes.UserError, statusCode);
        Assert.Contains("spar run", error);
    }
}
