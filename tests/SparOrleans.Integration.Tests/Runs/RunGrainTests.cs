using SparOrleans.Models.Generation;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Integration.Tests.Runs;

/// <summary>A whole (tiny) SPaR run with real TorchSharp models on a gpu silo and a cpu silo.</summary>
public sealed class RunGrainTests : IAsyncLifetime
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"spar-run-{Guid.NewGuid():N}");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
            silo.ConfigureSpar(new SparSiloOptions { Roles = options.SiloName == "Silo_0" ? [SiloRoles.Gpu] : [SiloRoles.Cpu] }).UseInMemoryReminderService());
        builder.ConfigureClient(client => client.Services.AddSparSerialization());
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_out, recursive: true);
    }

    [Fact]
    public async Task StartAsync_TinyRun_CompletesWithReportsAndReadableStateMidRun()
    {
        var options = SimulatorOptions.Tiny with { Seed = 3 };
        var spec = new RunSpec("tiny", _out, 3, Iterations: 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
        var run = _cluster.Client.GetGrain<IRunGrain>("tiny");
        await Placement.RoleMetadata.CallWhenPropagatedAsync(() => run.StartAsync(spec));

        var phases = new List<RunPhase>();
        PromptSnapshot? midRun = null;
        RunStatus? last = null;
        await foreach (var status in run.WatchAsync())
        {
            last = status;
            if (phases.Count == 0 || phases[^1] != status.Phase)
            {
                phases.Add(status.Phase);
            }
            if (status.Phase >= RunPhase.ActorTraining && status.Iteration == 1 && midRun is null)
            {
                var keys = await run.GetPromptKeysAsync(1);
                midRun = await _cluster.Client.GetGrain<IPromptGrain>(keys[0]).GetSnapshotAsync();
            }
        }

        Assert.NotNull(last);
        Assert.True(last.Status == RunStatusKind.Completed, $"run ended {last.Status}: {last.Error}");
        Assert.Equal([0, 1], last.Iterations.Select(r => r.Iteration));
        Assert.Equal(options.IterationPrompts, last.Iterations[1].Prompts);
        Assert.All(last.Iterations, r => Assert.InRange(r.ActorHeldout.PromptStrict, 0, 1));
        // A watcher may miss a short phase, but never sees them out of order; every phase is timed in the report.
        var order = new[] { RunPhase.BootstrapActor, RunPhase.BootstrapRefiner, RunPhase.Sampling, RunPhase.Judging, RunPhase.Search, RunPhase.ActorTraining, RunPhase.RefinerTraining };
        var firstSeen = order.Select(p => phases.IndexOf(p)).Where(i => i >= 0).ToList();
        Assert.Equal(firstSeen.Order(), firstSeen);
        Assert.Equal(["bootstrap_actor", "bootstrap_refiner", "evaluation"], last.Iterations[0].PhaseSeconds.Keys.Order());
        Assert.Equal(["actor_dpo", "evaluation", "judging", "refiner_rft", "sampling", "search"], last.Iterations[1].PhaseSeconds.Keys.Order());
        Assert.NotNull(midRun);
        Assert.Equal(PromptPhase.Done, midRun.Phase);
        Assert.Equal(options.SamplesPerPrompt, midRun.Samples.Count);
        Assert.True(Directory.Exists(Path.Combine(_out, "models", "actor-1")));
        Assert.True(Directory.Exists(Path.Combine(_out, "models", "refiner-1")));

        // Models live only on the gpu silo: the cpu silo has no generation backend or model host at all.
        var cpu = _cluster.GetSiloServiceProvider(_cluster.Silos[1].SiloAddress);
        Assert.Null(cpu.GetService<IGenerationBackend>());
        Assert.Null(cpu.GetService<IModelWorkshop>());
    }
}
