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
    /// Decoding threads (<see cref="GenerationServiceOptions.Workers"/>), shared by every model loaded; default: one
    /// per core on a CPU, each on one torch thread (measured 1.8× the tokens a second of one worker on two threads for
    /// the simulator's judging and search), one on a GPU.
    /// </summary>
    public int? Workers { get; init; }

    /// <summary>Whether identical prompts are prefilled once (<see cref="GenerationServiceOptions.PrefixSharing"/>). Default on.</summary>
    public bool PrefixSharing { get; init; } = true;

    /// <summary>
    /// Model versions kept loaded at once, the least recently used unloaded first. Default 2: one run's actor and
    /// refiner, so a run loads each version once. Runs sharing a silo each want two: fewer is correct but reloads.
    /// </summary>
    public int ResidentModels { get; init; } = 2;

    public int EffectiveWorkers => Workers ?? (Engine.Native.TorchRuntime.IsCuda(Device) ? 1 : Environment.ProcessorCount);

    public IEnumerable<string> Problems() => new ProblemList()
        .Device("device", Device)
        .InRange(nameof(MaxBatchSize), MaxBatchSize, 1, 4096)
        .Require(Workers is null or (>= 1 and <= 256), $"Workers must be between 1 and 256 (got {Workers})")
        .InRange($"{nameof(ResidentModels)} (spar silo --resident-models)", ResidentModels, 1, 1024);
}

/// <summary>
/// The models of one GPU-role silo: every version asked for is loaded from its checkpoint on first use and served by
/// one continuous-batching <see cref="GenerationService"/> (a slot per version, sharing the decoding workers), up to
/// <see cref="ModelHostOptions.ResidentModels"/> at once. A call is queued on exactly the version it names: the
/// version is looked up and the requests queued under one lock, so no load or unload can come between them (with a
/// slot per role, a call that found its version loaded could be queued after another run's version had replaced it,
/// and be answered by that model). Unloading a version lets the calls already queued on it finish, then disposes it.
/// </summary>
public sealed class ModelHost(ModelHostOptions options, ICheckpointSource checkpoints, ILogger<ModelHost> logger) : IGenerationBackend, IAsyncDisposable
{
    private readonly object _sync = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly Dictionary<string, Resident> _resident = new(StringComparer.Ordinal);
    private readonly HashSet<LanguageModel> _unloading = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _unloaded = new(StringComparer.Ordinal);
    private GenerationService? _service;
    private long _uses;
    private bool _disposed;

    /// <summary>The versions loaded now, most recently used first.</summary>
    public IReadOnlyList<string> Loaded
    {
        get
        {
            lock (_sync)
            {
                return [.. _resident.OrderByDescending(r => r.Value.LastUse).Select(r => r.Key)];
            }
        }
    }

    /// <summary>Checkpoints loaded since start (a version unloaded and asked for again counts again).</summary>
    public int Loads { get; private set; }

    /// <summary>Loads of a version this host had unloaded before (each logs a warning to raise the limit).</summary>
    public int Reloads { get; private set; }

    /// <summary>Generates every call concurrently, so they share decoding steps with all other callers.</summary>
    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
        var requests = calls.Select(ToRequest).ToList();
        var queued = TrySubmit(model.Version, requests, cancellationToken);
        if (queued is null)
        {
            await _loading.WaitAsync(cancellationToken);
            try
            {
                // Loaded by another caller while this one waited, or loaded now and queued on before anything can unload it.
                queued = TrySubmit(model.Version, requests, cancellationToken) ?? await LoadAndSubmitAsync(model, requests, cancellationToken);
            }
            finally
            {
                _loading.Release();
            }
        }
        var results = await Task.WhenAll(queued);
        return results.Select(r => new Generated(r.Text, r.TokenIds.Count, "", r.ModelVersion)).ToList();
    }

    private IReadOnlyList<Task<GenerationResult>>? TrySubmit(string version, List<GenerationRequest> requests, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_resident.TryGetValue(version, out var resident))
            {
                return null;
            }
            resident.LastUse = ++_uses;
            return _service!.SubmitAll(version, requests, cancellationToken);
        }
    }

    private async Task<IReadOnlyList<Task<GenerationResult>>> LoadAndSubmitAsync(ModelRef model, List<GenerationRequest> requests, CancellationToken cancellationToken)
    {
        // A real checkpoint takes seconds to minutes to fetch and load, and every call for it waits meanwhile: say so.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        logger.LogInformation("Loading model {Role} {Version} from {Directory}", model.Role, model.Version, model.CheckpointDirectory);
        // Another GPU silo may have trained this version: fetched from blob storage when this one lacks it.
        await checkpoints.EnsureLocalAsync(model.Version, model.CheckpointDirectory, cancellationToken);
        var network = await Task.Run(() => ModelCheckpoint.Load(model.CheckpointDirectory, options.Device, model.Version), cancellationToken);
        lock (_sync)
        {
            if (_disposed)
            {
                network.Dispose();
                throw new ObjectDisposedException(nameof(ModelHost));
            }
            if (_service is null)
            {
                _service = new GenerationService(new Dictionary<string, LanguageModel> { [model.Version] = network }, new GenerationServiceOptions
                {
                    MaxBatchSize = options.MaxBatchSize,
                    Workers = options.EffectiveWorkers,
                    PrefixSharing = options.PrefixSharing,
                });
            }
            else
            {
                _service.SwapModel(model.Version, network);
            }
            _resident[model.Version] = new Resident(network) { LastUse = ++_uses };
            Loads++;
            if (_unloaded.Remove(model.Version))
            {
                Reloads++;
                // Each reload is a checkpoint read (seconds to minutes for a real model) and calls wait behind it.
                logger.LogWarning(
                    "Model {Version} loaded again after it was unloaded: this silo serves more versions at once than it keeps loaded ({Resident}); with several runs on it, give `spar silo --resident-models` 2 per run",
                    model.Version, options.ResidentModels);
            }
            while (_resident.Count > options.ResidentModels)
            {
                Unload(_resident.Where(r => r.Key != model.Version).MinBy(r => r.Value.LastUse).Key);
            }
            // Cumulative over the host's life: judging's votes and a prompt's K samples should show up as hits.
            var sharing = _service.PrefixSharing;
            logger.LogInformation(
                "Model {Role} {Version} loaded in {Seconds:F1} s ({Count} loaded: {Loaded}); prefix sharing so far: {Hits} of {Rows} rows not prefilled (hit rate {HitRate:F2}), {Prefilled} of {PromptTokens} prompt tokens prefilled",
                model.Role, model.Version, clock.Elapsed.TotalSeconds, _resident.Count, string.Join(", ", _resident.Keys),
                sharing.Hits, sharing.Rows, sharing.HitRate, sharing.PrefilledTokens, sharing.PromptTokens);
            return _service.SubmitAll(model.Version, requests, cancellationToken);
        }
    }

    // Under _sync. Calls already queued on the version finish on it; the model is disposed after the last one.
    private void Unload(string version)
    {
        _resident.Remove(version, out var resident);
        var model = resident!.Model;
        _unloading.Add(model);
        // Remembered to say so if it is asked for again (bounded: a long-lived silo sees every version of every run).
        if (_unloaded.Count >= 4096)
        {
            _unloaded.Clear();
        }
        _unloaded.Add(version);
        _service!.RemoveSlot(version).ContinueWith(_ =>
        {
            lock (_sync)
            {
                // After the host's disposal the host disposes what is left.
                if (!_unloading.Remove(model))
                {
                    return;
                }
            }
            model.Dispose();
        }, TaskScheduler.Default);
        logger.LogInformation("Model {Version} unloaded (least recently used of {Count})", version, options.ResidentModels + 1);
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
        GenerationService? service;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            service = _service;
        }
        if (service is not null)
        {
            await service.DisposeAsync();
        }
        lock (_sync)
        {
            foreach (var model in _resident.Values.Select(r => r.Model).Concat(_unloading))
            {
                model.Dispose();
            }
            _resident.Clear();
            _unloading.Clear();
        }
    }

    private sealed class Resident(LanguageModel model)
    {
        public LanguageModel Model { get; } = model;

        public long LastUse { get; set; }
    }
}
