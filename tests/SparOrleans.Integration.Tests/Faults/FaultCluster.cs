using SparOrleans.Models.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using SparOrleans.Grains.Placement;
using SparOrleans.Grains.Runs;
using SparOrleans.Integration.Tests.Placement;
using SparOrleans.Interfaces;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Storage;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// An in-process cluster as deployed: Silo_0 has the gpu role (scripted generation, real simulator training),
/// every other silo the cpu role (run, prompt and tree grains); all keep grain state in one Azurite container.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    private FaultCluster(InProcessTestCluster cluster) => Cluster = cluster;

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    private IServiceProvider Gpu => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress);

    public GatedBackend Backend => (GatedBackend)Gpu.GetRequiredService<IGenerationBackend>();

    public RecordingWorkshop Workshop => (RecordingWorkshop)Gpu.GetRequiredService<IModelWorkshop>();

    public static async Task<FaultCluster> StartAsync(string connectionString, int cpuSilos = 2, RunRetryOptions? retry = null)
    {
        var storage = new GrainStorageOptions
        {
            ConnectionString = connectionString,
            ContainerName = $"faults-{Guid.NewGuid():N}"[..20],
        };
        var builder = new InProcessTestClusterBuilder((short)(1 + cpuSilos));
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            var gpu = options.SiloName == "Silo_0";
            if (gpu)
            {
                silo.Services.AddSingleton<IGenerationBackend, GatedBackend>();
                silo.Services.AddSingleton<IModelWorkshop, RecordingWorkshop>();
            }
            if (retry is not null)
            {
                silo.Services.AddSingleton(retry);
            }
            silo.ConfigureSpar(new SparSiloOptions { Roles = gpu ? [SiloRoles.Gpu] : [SiloRoles.Cpu], Storage = storage }).UseInMemoryReminderService();
            if (FileLog.Path is { } log)
            {
                silo.Services.AddLogging(logging => logging.AddProvider(new FileLog($"{log}.{options.SiloName}")));
            }
        });
        builder.ConfigureClient(client => client.Services.AddSparSerialization());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new FaultCluster(cluster);
    }

    /// <summary>The tiny run every fault test uses: 8 prompts, 3 samples each, scripted generations.</summary>
    public static RunSpec Spec(string outputDirectory, int seed = 11, int iterations = 1)
    {
        var options = SimulatorOptions.Tiny with { Seed = seed, IterationPrompts = 8, SamplesPerPrompt = 3 };
        return new RunSpec("faulty", outputDirectory, seed, iterations, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
    }

    public IRunGrain Run(RunSpec spec) => Client.GetGrain<IRunGrain>(spec.RunId);

    public async Task StartRunAsync(RunSpec spec) =>
        await RoleMetadata.CallWhenPropagatedAsync(() => Run(spec).StartAsync(spec));

    /// <summary>Follows the run to its end through broken watches, then records what it produced.</summary>
    public async Task<RunRecord> FinishAsync(RunSpec spec)
    {
        RunStatus? last = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await foreach (var status in RunFollower.FollowAsync(Run(spec), timeout.Token))
        {
            last = status;
        }
        var run = Run(spec);
        var prompts = new List<IReadOnlyList<string>>();
        for (var t = 1; t <= spec.Iterations; t++)
        {
            prompts.Add(await run.GetPromptKeysAsync(t));
        }
        return new RunRecord(
            last ?? throw new InvalidOperationException("The run reported no status."),
            prompts,
            Workshop.Pairs.ToDictionary(p => p.Key, p => p.Value),
            Workshop.Examples.ToDictionary(p => p.Key, p => p.Value),
            Backend.Calls);
    }

    /// <summary>The cpu silo with the most activations of the given grains (the one whose death hurts most).</summary>
    public async Task<(InProcessSiloHandle Silo, int Activations)> BusiestCpuSiloAsync(IEnumerable<IAddressable> grains)
    {
        var management = Client.GetGrain<IManagementGrain>(0);
        var hosts = await Task.WhenAll(grains.Select(g => management.GetActivationAddress(g).AsTask()));
        var counts = hosts.Where(h => h is not null).GroupBy(h => h!).ToDictionary(g => g.Key, g => g.Count());
        var busiest = Cluster.Silos.Skip(1).OrderByDescending(s => counts.GetValueOrDefault(s.SiloAddress)).First();
        return (busiest, counts.GetValueOrDefault(busiest.SiloAddress));
    }

    /// <summary>The reminders the cluster's reminder table holds for <paramref name="grain"/> (the run's keep-running one).</summary>
    public async Task<IReadOnlyList<string>> RemindersOfAsync(IAddressable grain) =>
        (await Gpu.GetRequiredService<IReminderTable>().ReadRows(grain.GetGrainId())).Reminders.Select(r => r.ReminderName).ToList();

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>What a run produced: its final status, each iteration's prompts, and the data sets its training steps got.</summary>
public sealed record RunRecord(
    RunStatus Final,
    IReadOnlyList<IReadOnlyList<string>> PromptKeys,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Pairs,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Examples,
    int GenerationCalls);

/// <summary>Lost and duplicated items of a data set against a reference, as multisets.</summary>
public sealed record DatasetDiff(int Lost, int Duplicated)
{
    public static DatasetDiff Of(IReadOnlyDictionary<string, IReadOnlyList<string>> reference, IReadOnlyDictionary<string, IReadOnlyList<string>> actual)
    {
        var lost = 0;
        var duplicated = 0;
        foreach (var step in reference.Keys.Union(actual.Keys))
        {
            var want = Counts(reference.GetValueOrDefault(step) ?? []);
            var got = Counts(actual.GetValueOrDefault(step) ?? []);
            foreach (var item in want.Keys.Union(got.Keys))
            {
                var difference = got.GetValueOrDefault(item) - want.GetValueOrDefault(item);
                lost += Math.Max(0, -difference);
                duplicated += Math.Max(0, difference);
            }
        }
        return new DatasetDiff(lost, duplicated);
    }

    private static Dictionary<string, int> Counts(IEnumerable<string> items) =>
        items.GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
}
