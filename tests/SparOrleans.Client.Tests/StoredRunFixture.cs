using SparOrleans.Models.Generation;
using Microsoft.Extensions.DependencyInjection;
using SparOrleans.Integration.Tests.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Client.Tests;

/// <summary>
/// A spar home with two stored runs, made once for the tests that read stored state (export, report, list): a
/// completed two-iteration tiny run whose prompts were answered by <see cref="ScriptedBackend"/> (so its trees,
/// DPO pairs and RFT set are non-empty; bootstrap, DPO/RFT training and evaluation use the real tiny models), and a
/// run that failed in its bootstrap (no iteration, no data). Both went through the embedded silo and its directory
/// grain storage, exactly as `spar run` stores them.
/// </summary>
public sealed class StoredRunFixture : IAsyncLifetime
{
    public const string Completed = "stored-tiny";
    public const string Failed = "stored-failed";

    public string Home { get; } = Path.Combine(Path.GetTempPath(), $"spar-stored-{Guid.NewGuid():N}");

    public RunStatus CompletedStatus { get; private set; } = null!;

    public RunStatus FailedStatus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Home);
        await using var silo = await EmbeddedSilo.StartAsync(
            Path.Combine(Home, ".state"),
            configure: s => s.Services.AddSingleton<IGenerationBackend, ScriptedBackend>());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        // A file where the run wants a folder: its bootstrap cannot save M_0 and the run fails at once.
        var blocker = Path.Combine(Home, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "");
        FailedStatus = await RunAsync(silo, Spec(Failed, Path.Combine(blocker, "out"), iterations: 1), timeout.Token);

        CompletedStatus = await RunAsync(silo, Spec(Completed, Path.Combine(Home, Completed), iterations: 2), timeout.Token);
        if (CompletedStatus.Status != RunStatusKind.Completed)
        {
            throw new InvalidOperationException($"The fixture run ended {CompletedStatus.Status}: {CompletedStatus.Error}");
        }
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Home))
        {
            Directory.Delete(Home, recursive: true);
        }
        return Task.CompletedTask;
    }

    private static RunSpec Spec(string id, string output, int iterations)
    {
        // Eight prompts make negatives, trees and pairs certain with the scripted answers (30% start out good).
        var options = SimulatorOptions.Tiny with { Seed = 5, IterationPrompts = 8 };
        return new RunSpec(id, output, options.Seed, iterations, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
    }

    private static async Task<RunStatus> RunAsync(EmbeddedSilo silo, RunSpec spec, CancellationToken cancellationToken)
    {
        var grain = silo.Client.GetGrain<IRunGrain>(spec.RunId);
        await grain.StartAsync(spec);
        RunStatus last = null!;
        await foreach (var status in grain.WatchAsync(cancellationToken))
        {
            last = status;
        }
        return last;
    }
}

[CollectionDefinition(Name)]
public sealed class StoredRunCollection : ICollectionFixture<StoredRunFixture>
{
    public const string Name = "stored runs";
}
