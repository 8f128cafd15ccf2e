using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Integration.Tests.Runs;

/// <summary>The embedded cluster stopped mid-run and started again on the same state directory (what `spar resume` does).</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"spar-resume-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ResumeAsync_AfterSiloStoppedMidIteration_CompletesWithTheSamePrompts()
    {
        var options = SimulatorOptions.Tiny with { Seed = 5 };
        var spec = new RunSpec("resumable", Path.Combine(_root, "out"), 5, Iterations: 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
        var state = Path.Combine(_root, "state");

        IReadOnlyList<string> keysBefore;
        await using (var first = await EmbeddedSilo.StartAsync(state))
        {
            var run = first.Client.GetGrain<IRunGrain>(spec.RunId);
            await run.StartAsync(spec);
            await foreach (var status in run.WatchAsync())
            {
                if (status.Iteration == 1 && status.Phase >= RunPhase.Judging)
                {
                    break;
                }
            }
            keysBefore = await run.GetPromptKeysAsync(1);
        }
        var stored = await new SparOrleans.Storage.Blobs.DirectoryBlobStore(state).ReadAsync("state/run/resumable.json", default);
        Assert.Contains("\"Status\":1", stored!.Data.ToString());

        await using var second = await EmbeddedSilo.StartAsync(state);
        var resumed = second.Client.GetGrain<IRunGrain>(spec.RunId);
        await resumed.ResumeAsync();
        RunStatus? last = null;
        await foreach (var status in resumed.WatchAsync())
        {
            last = status;
        }

        Assert.NotNull(last);
        Assert.True(last.Status == RunStatusKind.Completed, $"run ended {last.Status}: {last.Error}");
        Assert.Equal([0, 1], last.Iterations.Select(r => r.Iteration));
        Assert.Equal(keysBefore, await resumed.GetPromptKeysAsync(1));
        Assert.Equal(new WorldPromptSource().Prompts(spec, 1).Count, last.Iterations[1].Prompts);
    }
}
