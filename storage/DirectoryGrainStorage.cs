using Microsoft.Extensions.Logging;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage;

/// <summary>
/// Orleans grain storage in a local directory, for the embedded single silo (a cluster uses the official Azure Blob
/// provider). Same semantics as that provider: a missing state reads as the default with no ETag; a write is
/// conditional on the ETag read (none ⇒ "must not exist"); a failed condition throws
/// <see cref="InconsistentStateException"/>, after which Orleans deactivates the grain and the next call re-reads.
/// State is <see cref="GrainStateJson"/>, one file per grain and state name (<see cref="GrainStateLayout.Directory"/>).
/// </summary>
public sealed class DirectoryGrainStorage(
    string providerName,
    DirectoryBlobStore store,
    IActivatorProvider activators,
    ILogger<DirectoryGrainStorage> logger) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var name = GrainStateLayout.Directory.BlobName(stateName, grainId);
        var blob = await store.ReadAsync(name, CancellationToken.None);
        if (blob is null)
        {
            Reset(grainState);
            return;
        }
        grainState.State = Deserialize<T>(name, blob.Data);
        grainState.ETag = blob.ETag;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var name = GrainStateLayout.Directory.BlobName(stateName, grainId);
        try
        {
            grainState.ETag = await store.WriteAsync(name, GrainStateJson.Serializer.Serialize(grainState.State), grainState.ETag, CancellationToken.None);
            grainState.RecordExists = true;
        }
        catch (BlobConflictException e)
        {
            throw new InconsistentStateException(e.Message, e);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await store.DeleteAsync(GrainStateLayout.Directory.BlobName(stateName, grainId), grainState.ETag, CancellationToken.None);
        }
        catch (BlobConflictException e)
        {
            throw new InconsistentStateException(e.Message, e);
        }
        Reset(grainState);
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(DirectoryGrainStorage)}-{providerName}", ServiceLifecycleStage.ApplicationServices, InitializeAsync);

    private void Reset<T>(IGrainState<T> grainState)
    {
        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.EnsureContainerAsync(cancellationToken);
            logger.LogInformation("Grain storage {Provider} ready in {Directory}", providerName, store.Describe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnreachableException(store.Describe, e);
        }
    }

    private static T Deserialize<T>(string name, BinaryData data)
    {
        try
        {
            return GrainStateJson.Serializer.Deserialize<T>(data)!;
        }
        catch (System.Text.Json.JsonException e)
        {
            // A corrupt file must stop the grain loudly: silently resetting it would lose a run's data.
            throw new InvalidDataException($"Stored state '{name}' is not valid JSON for {typeof(T).Name}: {e.Message}", e);
        }
    }
}

/// <summary>Storage could not be reached at silo start; the message says where and why, on one line.</summary>
public sealed class StorageUnreachableException(string where, Exception inner)
    : Exception($"Cannot reach grain storage at {where}: {StorageFaults.Reason(inner)}", inner);
