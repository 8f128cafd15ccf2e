using SparOrleans.Models.Generation;
using SparOrleans.Storage.Checkpoints;

namespace SparOrleans.Grains.Training;

/// <summary>
/// Keeps a silo's checkpoint directories in step with blob storage when the cluster has some (null store: every silo
/// shares one disk, as in the embedded run, and there is nothing to do). A checkpoint of run R in directory
/// <c>…/actor-1</c> is named <c>R/actor-1</c>, the same as the model version generation asks for.
/// </summary>
public sealed class CheckpointSync(CheckpointStore? store) : ICheckpointSource
{
    public bool Enabled => store is not null;

    public static string Name(string runId, string directory) =>
        $"{runId}/{Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}";

    /// <summary>Downloads the checkpoint into <paramref name="directory"/> when this silo does not have it.</summary>
    public async Task EnsureLocalAsync(string name, string directory, CancellationToken cancellationToken = default)
    {
        if (store is not null && !await store.EnsureLocalAsync(name, directory, cancellationToken))
        {
            throw new DirectoryNotFoundException($"Checkpoint {name} is neither at {directory} nor in {store.Describe}.");
        }
    }

    /// <summary>Uploads a checkpoint this silo just wrote, so other GPU-role silos can load it.</summary>
    public Task PublishAsync(string name, string directory, CancellationToken cancellationToken = default) =>
        store?.UploadAsync(name, directory, cancellationToken) ?? Task.CompletedTask;
}
