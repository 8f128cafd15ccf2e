using SparOrleans.Models.Generation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SparOrleans.Core.Options;
using SparOrleans.Grains;
using SparOrleans.Grains.Placement;
using SparOrleans.Grains.Runs;
using SparOrleans.Grains.Training;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Models.Runs;
using SparOrleans.Silo.Runs;
using SparOrleans.Interfaces;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Storage.Hosting;

namespace SparOrleans.Silo.Hosting;

public static class SparSiloConfiguration
{
    /// <summary>Everything a SPaR silo needs, whatever its clustering: roles, serialization, storage, models.</summary>
    public static ISiloBuilder ConfigureSpar(this ISiloBuilder builder, SparSiloOptions options)
    {
        options.Validated();
        builder.UseSiloRoles(options.Roles);
        builder.Services.AddSparSerialization();
        if (options.Storage is { } storage)
        {
            builder.AddSparGrainStorage(SparStorage.Name, storage);
        }
        else
        {
            builder.AddMemoryGrainStorage(SparStorage.Name);
        }
        // The run's outside world, by each run's spec: the simulated one or the researcher's models and files (a test
        // or another host may register its own first).
        builder.Services.TryAddSingleton<IPromptSource>(_ => new RunPromptSource(new WorldPromptSource(), new ModelPromptSource()));
        builder.Services.TryAddSingleton<IResponseVerifier, RunResponseVerifier>();
        builder.Services.TryAddSingleton<IMethodSettings, RunMethodSettings>();
        // TryAdd: a test may register its own limits first.
        builder.Services.TryAddSingleton(options.Retry);
        builder.Services.TryAddSingleton(options.Reminder);
        // Orleans refuses reminders shorter than its minimum (1 minute): a shorter run reminder lowers it.
        builder.Services.AddOptions<ReminderOptions>().Configure<RunReminderOptions>((o, run) =>
            o.MinimumReminderPeriod = run.Period < o.MinimumReminderPeriod ? run.Period : o.MinimumReminderPeriod);
        if (options.IsGpu)
        {
            builder.Services.AddSingleton(options.Models);
            builder.Services.AddSingleton(new CheckpointSync(GrainStorageHostingExtensions.ClusterCheckpoints(options.Storage)));
            // ModelHost fetches a checkpoint this silo lacks through it.
            builder.Services.AddSingleton<ICheckpointSource>(sp => sp.GetRequiredService<CheckpointSync>());
            builder.Services.AddSingleton<ModelHost>();
            builder.Services.AddSingleton(sp => new OpenAiBackend(OpenAiBackendOptions.FromEnvironment(), sp.GetRequiredService<ILogger<OpenAiBackend>>()));
            // TryAdd: a test may register a scripted backend first.
            builder.Services.TryAddSingleton<IGenerationBackend>(sp =>
                new GenerationRouter(sp.GetRequiredService<ModelHost>(), sp.GetRequiredService<OpenAiBackend>()));
            builder.Services.TryAddSingleton<IModelWorkshop>(_ => new RunWorkshop(
                new SimulatorWorkshop(options.BootstrapCacheDirectory is { } cache ? new BootstrapCache(cache, options.RefreshBootstrapCache) : null),
                new ModelWorkshop()));
        }
        return builder;
    }
}
