using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage.Checkpoints;

/// <summary>
/// Model checkpoints in blob storage, so that any GPU-role silo can load a model another one trained: a checkpoint
/// named <c>run/actor-1</c> is the blobs <c>run/actor-1/&lt;file&gt;</c>, one per file of its directory. The local
/// directory is the cache: <see cref="EnsureLocalAsync"/> downloads only when it is missing, into a temporary sibling
/// moved into place, so a half-downloaded model is never loaded.
/// </summary>
public sealed class CheckpointStore(IBlobStore blobs)
{
    public string Describe => blobs.Describe;

    /// <summary>Uploads every file of <paramref name="directory"/> under <paramref name="name"/> (overwriting).</summary>
    public async Task UploadAsync(string name, string directory, CancellationToken cancellationToken = default)
    {
        await blobs.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        foreach (var file in Directory.GetFiles(directory))
        {
            var blob = $"{name}/{Path.GetFileName(file)}";
            var existing = await blobs.ReadAsync(blob, cancellationToken).ConfigureAwait(false);
            await blobs.WriteAsync(blob, BinaryData.FromBytes(await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false)),
                existing?.ETag, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes <paramref name="directory"/> hold checkpoint <paramref name="name"/>: true when it already existed or was
    /// downloaded, false when neither the directory nor the blobs exist.
    /// </summary>
    public async Task<bool> EnsureLocalAsync(string name, string directory, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(full))
        {
            return true;
        }
        await blobs.EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        await foreach (var blob in blobs.ListAsync($"{name}/", cancellationToken).ConfigureAwait(false))
        {
            names.Add(blob);
        }
        if (names.Count == 0)
        {
            return false;
        }
        var temp = $"{full}.download-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var blob in names)
            {
                var stored = await blobs.ReadAsync(blob, cancellationToken).ConfigureAwait(false)
                    ?? throw new IOException($"Checkpoint blob {blob} disappeared while {name} was downloaded.");
                await File.WriteAllBytesAsync(Path.Combine(temp, blob[(name.Length + 1)..]), stored.Data.ToArray(), cancellationToken).ConfigureAwait(false);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            Directory.Move(temp, full);
        }
        catch (IOException) when (Directory.Exists(full))
        {
            // Another download of the same checkpoint finished first: its copy is as good as ours.
            Directory.Delete(temp, recursive: true);
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
        }
        return true;
    }
}
