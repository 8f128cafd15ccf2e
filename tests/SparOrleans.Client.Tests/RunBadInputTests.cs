using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Engine.Model;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>`spar run` and `spar resume` given bad input: one `error:` line, exit 2, nothing half-written.</summary>
public sealed class RunBadInputTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-bad-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Theory]
    [InlineData("--iterations", "51", "--iterations must be between 0 and 50")]
    [InlineData("--iterations", "-1", "--iterations must be between 0 and 50")]
    [InlineData("--prompts", "100001", "--prompts must be between 1 and 100000")]
    [InlineData("--samples", "0", "--samples must be between 1 and 64")]
    [InlineData("--out", "/proc/spar-cannot-write", "--out /proc/spar-cannot-write cannot be written")]
    [InlineData("--prompts", "prompts.jsonl", "a prompt file needs --actor DIR --refiner DIR")]
    [InlineData("--eval-ifeval", "x.jsonl", "--eval-ifeval applies to runs on your own models")]
    public async Task Run_OutOfRangeOption_OneErrorLineAndNothingWritten(string option, string value, string message)
    {
        var (code, output, error) = await Spar("run", "--preset", "tiny", option, value, "--run-id", "bad", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        AssertOneErrorLine(error, message);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(_home), "a rejected run must not create its home");
    }

    [Fact]
    public async Task Resume_CorruptRunState_NamesTheFile()
    {
        var file = Path.Combine(_home, ".state", "state", "run", "broken.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "\"etag-1\"\n{\"Spec\": {\"RunId\": ");

        var (code, _, error) = await Spar("resume", "broken", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        AssertOneErrorLine(error, "broken.json is corrupt");
    }

    [Fact]
    public async Task Resume_CheckpointOfAnotherShape_RefusesBeforeStartingAndWritesNothing()
    {
        var spec = await StoreRunAtIterationOneAsync("mismatched");
        using (var foreign = LanguageModel.CreateByteLevel(hiddenSize: 64, layers: 1, heads: 2))
        {
            ModelCheckpoint.Save(foreign, new RunLayout(spec).Actor(0));
        }
        using (var refiner = LanguageModel.CreateByteLevel(hiddenSize: 32, layers: 1, heads: 2))
        {
            ModelCheckpoint.Save(refiner, new RunLayout(spec).Refiner(0));
        }
        var stateBefore = await File.ReadAllTextAsync(Path.Combine(_home, ".state", "state", "run", "mismatched.json"));

        var (code, _, error) = await Spar("resume", "mismatched", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        AssertOneErrorLine(error, "does not belong to run 'mismatched': it has hidden size 64");
        Assert.False(File.Exists(Path.Combine(spec.OutputDirectory, "summary.json")));
        Assert.Equal(stateBefore, await File.ReadAllTextAsync(Path.Combine(_home, ".state", "state", "run", "mismatched.json")));
    }

    [Fact]
    public async Task Resume_MissingCheckpoint_SaysWhichOne()
    {
        var spec = await StoreRunAtIterationOneAsync("orphan");

        var (code, _, error) = await Spar("resume", "orphan", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        AssertOneErrorLine(error, $"{new RunLayout(spec).Actor(0)}, which is missing");
    }

    [Fact]
    public async Task Run_UnusableStateDirectory_OneErrorLineAndNoOutputs()
    {
        Directory.CreateDirectory(_home);
        var notADirectory = Path.Combine(_home, "file");
        await File.WriteAllTextAsync(notADirectory, "a file where the home should be");
        var output = Path.Combine(_home, "out");

        var (code, _, error) = await Spar("run", "--preset", "tiny", "--iterations", "0", "--run-id", "nowhere", "--home", Path.Combine(notADirectory, "home"), "--out", output);

        Assert.Equal(ExitCodes.UserError, code);
        AssertOneErrorLine(error, "Cannot reach grain storage");
        Assert.False(Directory.Exists(output));
    }

    /// <summary>A stored run that was interrupted in iteration 1, as the run grain persists it.</summary>
    private async Task<RunSpec> StoreRunAtIterationOneAsync(string runId)
    {
        var options = SimulatorOptions.Tiny with { Seed = 1 };
        var spec = new RunSpec(runId, Path.Combine(_home, runId), 1, 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
        var state = new RunGrain.RunState
        {
            Spec = spec,
            Status = RunStatusKind.Running,
            Phase = RunPhase.Sampling,
            Iteration = 1,
            Created = DateTimeOffset.UtcNow,
            Updated = DateTimeOffset.UtcNow,
        };
        var store = new DirectoryBlobStore(Path.Combine(_home, ".state"));
        await store.EnsureContainerAsync(default);
        await store.WriteAsync(GrainStateLayout.Directory.BlobName("state", "run", runId), BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(state, GrainStateJson.Options)), null, default);
        return spec;
    }

    private static void AssertOneErrorLine(string error, string expected)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", error);
    }
}
