using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Polly;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage;

/// <summary>
/// Orleans grain storage on blobs with the official Azure provider's semantics: a missing blob reads as the default
/// state with no ETag; a write is conditional on the ETag read (none ⇒ "must not exist"); a failed condition throws
/// <see cref="InconsistentStateException"/>, after which Orleans deactivates the grain and the next call re-reads.
/// State is System.Text.Json, one blob per grain and state name.
/// </summary>
public sealed class BlobGrainStorage(
    string providerName,
    IBlobStore store,
    ResiliencePipeline pipeline,
    IActivatorProvider activators,
    ILogger<BlobGrainStorage> logger) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    // Named floating-point literals: a figure a run did not measure is NaN in its reports (a model run without an
    // evaluation set), and a state that holds one must still be stored.
    public static readonly JsonSerializerOptions StateJson = new(JsonSerializerDefaults.General)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var name = BlobName(stateName, grainId);
        var blob = await Unavailable(name, () => pipeline.ExecuteAsync(
            static async (args, ct) => await args.store.ReadAsync(args.name, ct), (store, name)));
        if (blob is null)
        {
            grainState.State = activators.GetActivator<T>().Create();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = Deserialize<T>(name, blob.Data);
        grainState.ETag = blob.ETag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var name = BlobName(stateName, grainId);
        var data = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(grainState.State, StateJson));
        try
        {
            grainState.ETag = await Unavailable(name, () => pipeline.ExecuteAsync(
                static async (args, ct) => await args.store.WriteAsync(args.name, args.data, args.etag, ct),
                (store, name, data, etag: grainState.ETag)));
            grainState.RecordExists = true;
        }
        catch (BlobConflictException e)
        {
            throw new InconsistentStateException(e.Message, e);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var name = BlobName(stateName, grainId);
        try
        {
            await Unavailable(name, async () =>
            {
                await pipeline.ExecuteAsync(
                    static async (args, ct) => await args.store.DeleteAsync(args.name, args.etag, ct),
                    (store, name, etag: grainState.ETag));
                return true;
            });
        }
        catch (BlobConflictException e)
        {
            throw new InconsistentStateException(e.Message, e);
        }
        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(BlobGrainStorage)}-{providerName}", ServiceLifecycleStage.ApplicationServices, InitializeAsync);

    /// <summary>Blob name of a grain's state: state name, grain type, escaped key — readable in a storage browser.</summary>
    public static string BlobName(string stateName, GrainId grainId) =>
        $"{Uri.EscapeDataString(stateName)}/{Uri.EscapeDataString(grainId.Type.ToString()!)}/{Uri.EscapeDataString(grainId.Key.ToString()!)}.json";

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.ExecuteAsync(static async (s, ct) => await s.EnsureContainerAsync(ct), store, cancellationToken);
            logger.LogInformation("Grain storage {Provider} ready at {Store}", providerName, store.Describe);
        }
        catch (Exception e) when (StorageResilience.IsTransient(e) || e is IOException or Polly.CircuitBreaker.BrokenCircuitException
            or UnauthorizedAccessException or Azure.RequestFailedException)
        {
            throw new StorageUnreachableException(store.Describe, e);
        }
    }

    /// <summary>
    /// Runs a storage call; when it still fails after the pipeline's retries (or the circuit is open) it throws a plain
    /// <see cref="IOException"/>. The failure crosses grain calls, and Polly's and Azure's exceptions have no Orleans
    /// codec: the caller would get a serialization error instead of a retryable storage outage.
    /// </summary>
    private async Task<TResult> Unavailable<TResult>(string name, Func<ValueTask<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (StorageResilience.IsTransient(e) || e is Polly.CircuitBreaker.BrokenCircuitException)
        {
            logger.LogWarning(e, "Storage call on {Blob} at {Store} failed", name, store.Describe);
            throw new IOException($"Grain storage at {store.Describe} is unavailable for '{name}': {e.GetType().Name}: {e.Message}");
        }
    }

    private static T Deserialize<T>(string name, BinaryData data)
    {
        try
        {
            return data.ToObjectFromJson<T>(StateJson)!;
        }
        catch (JsonException e)
        {
            // A corrupt blob must stop the grain loudly: silently resetting it would lose a run's data.
            throw new InvalidDataException($"Stored state '{name}' is not valid JSON for {typeof(T).Name}: {e.Message}", e);
        }
    }
}

/// <summary>Storage could not be reached at silo start; the message says where and why.</summary>
public sealed class StorageUnreachableException(string where, Exception inner)
    : Exception($"Cannot reach grain storage at {where}: {inner.Message}", inner);
