using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Models.Generation;

/// <summary>
/// Where a silo gets a checkpoint directory it lacks (blob storage in a cluster whose silos share no disk); the
/// version name is the one generation asks for.
/// </summary>
public interface ICheckpointSource
{
    Task EnsureLocalAsync(string name, string directory, CancellationToken cancellationToken = default);
}

/// <summary>Settings of a GPU-role silo's model host. Device <c>cpu</c> (default) or <c>cuda</c>.</summary>
public sealed record ModelHostOptions : IValidatedOptions
{
    public string Device { get; init; } = "cpu";

    /// <summary>Most rows decoded together per model and worker. Default 64.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// Decoding threads per model (<see cref="GenerationServiceOptions.Workers"/>); default: one per core on a CPU,
    /// each on one torch thread (measured 1.8× the tokens a second of one worker on two threads for the simulator's
    /// judging and search), one on a GPU.
    /// </summary>
    public int? Workers { get; init; }

    /// <summary>Whether identical prompts are prefilled once (<see cref="GenerationServiceOptions.PrefixSharing"/>). Default on.</summary>
    public bool PrefixSharing { get; init; } = true;

    public int EffectiveWorkers => Workers ?? (Engine.Native.TorchRuntime.IsCuda(Device) ? 1 : Environment.ProcessorCount);

    public IEnumerable<string> Problems() => new ProblemList()
        .Device("device", Device)
        .InRange(nameof(MaxBatchSize), MaxBatchSize, 1, 4096)
        .Require(Workers is null or (>= 1 and <= 256), $"Workers must be between 1 and 256 (got {Workers})");
}

/// <summary>
/// The models of one GPU-role silo: one continuous-batching <see cref="GenerationService"/> per role, loaded from
/// checkpoints on first use. A request for a newer version swaps the model atomically: calls submitted after the swap
/// use the new one, calls in flight finish on the old one.
/// </summary>
public sealed class ModelHost(ModelHostOptions options, ICheckpointSource checkpoints, ILogger<ModelHost> logger) : IGenerationBackend, IAsyncDisposable
{
    private readonly ConcurrentDictionary<ModelRole, Slot> _slots = new();

    public async Task<GenerationService> AcquireAsync(ModelRef model, CancellationToken cancellationToken)
    {
        var slot = _slots.GetOrAdd(model.Role, _ => new Slot());
        if (slot.Version == model.Version && slot.Service is { } ready)
        {
            return ready;
        }
        await slot.Gate.WaitAsync(cancellationToken);
        try
        {
            if (slot.Version == model.Version && slot.Service is { } loaded)
            {
                return loaded;
            }
            // Another GPU silo may have trained this version: fetched from blob storage when this one lacks it.
            await checkpoints.EnsureLocalAsync(model.Version, model.CheckpointDirectory, cancellationToken);
            var network = await Task.Run(() => ModelCheckpoint.Load(model.CheckpointDirectory, options.Device, model.Version), cancellationToken);
            if (slot.Service is null)
            {
                slot.Service = new GenerationService(network, new GenerationServiceOptions
                {
                    MaxBatchSize = options.MaxBatchSize,
                    Workers = options.EffectiveWorkers,
                    PrefixSharing = options.PrefixSharing,
                });
            }
            else
            {
                var retired = slot.Service.CurrentModel;
                await slot.Service.SwapModel(network);
                retired.Dispose();
            }
            slot.Version = model.Version;
            // Cumulative over the slot's life: judging's votes and a prompt's K samples should show up as hits.
            var sharing = slot.Service.PrefixSharing;
            logger.LogInformation(
                "Model {Role} now at {Version} ({Directory}); prefix sharing so far: {Hits} of {Rows} rows not prefilled (hit rate {HitRate:F2}), {Prefilled} of {PromptTokens} prompt tokens prefilled",
                model.Role, model.Version, model.CheckpointDirectory, sharing.Hits, sharing.Rows, sharing.HitRate, sharing.PrefilledTokens, sharing.PromptTokens);
            return slot.Service;
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>Generates every call concurrently, so they share decoding steps with all other callers.</summary>
    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
        var service = await AcquireAsync(model, cancellationToken);
        var results = await service.GenerateAllAsync(GenerationService.DefaultSlot, [.. calls.Select(ToRequest)], cancellationToken);
        return results.Select(r => new Generated(r.Text, r.TokenIds.Count, "", r.ModelVersion)).ToList();
    }

    public static GenerationRequest ToRequest(GenerationCall call) =>
        new(call.Prompt.Select(t => new ChatMessage(t.Role, t.Content)).ToList())
        {
            Temperature = call.Temperature,
            TopP = call.TopP,
            MaxNewTokens = call.MaxNewTokens,
            Seed = call.Seed,
        };

    public async ValueTask DisposeAsync()
    {
        foreach (var slot in _slots.Values)
        {
            if (slot.Service is { } service)
            {
                var model = service.CurrentModel;
                await service.DisposeAsync();
                model.Dispose();
            }
        }
    }

    private sealed class Slot
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public volatile GenerationService? Service;

        public volatile string? Version;
    }
}
