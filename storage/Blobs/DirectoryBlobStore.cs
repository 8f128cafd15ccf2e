using System.Runtime.CompilerServices;
using System.Text;

namespace SparOrleans.Storage.Blobs;

/// <summary>
/// A local directory with Azure Blob's ETag semantics, so the embedded `spar run` is durable with no server to
/// install. Each blob is one file: an ETag line, then the payload; it is replaced by an atomic rename, so a kill at
/// any moment leaves either the old or the new version. Conditions are checked under one in-process lock: the
/// directory serves a single silo process (a cluster uses Azure Blob Storage).
/// </summary>
public sealed class DirectoryBlobStore(string root) : IBlobStore
{
    private readonly string _root = Path.GetFullPath(root);
    private readonly SemaphoreSlim _lock = new(1, 1);

    public string Describe => _root;

    public Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_root);
        return Task.CompletedTask;
    }

    public async Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var newline = Array.IndexOf(bytes, (byte)'\n');
        if (newline < 0)
        {
            throw new InvalidDataException($"Blob file '{path}' has no ETag line: it was not written by this store.");
        }
        return new StoredBlob(BinaryData.FromBytes(bytes.AsMemory(newline + 1)), Encoding.ASCII.GetString(bytes, 0, newline));
    }

    public async Task<string> WriteAsync(string name, BinaryData data, string? expectedETag, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var current = await ReadAsync(name, cancellationToken);
            if (current?.ETag != expectedETag)
            {
                throw new BlobConflictException(name, expectedETag, current is null ? "the blob does not exist" : null);
            }
            var etag = $"\"{Guid.NewGuid():N}\"";
            var path = PathOf(name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = $"{path}.{Guid.NewGuid():N}.tmp";
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(etag + "\n"), cancellationToken);
                await stream.WriteAsync(data.ToMemory(), cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return etag;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task DeleteAsync(string name, string? expectedETag, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var current = await ReadAsync(name, cancellationToken);
            if (current is null && expectedETag is null)
            {
                return;
            }
            if (current?.ETag != expectedETag)
            {
                throw new BlobConflictException(name, expectedETag, current is null ? "the blob does not exist" : null);
            }
            File.Delete(PathOf(name));
        }
        finally
        {
            _lock.Release();
        }
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (!Directory.Exists(_root))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue;
            }
            var name = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return name;
            }
        }
    }

    private string PathOf(string name)
    {
        var path = Path.GetFullPath(Path.Combine(_root, name));
        // Blob names come from grain ids; a name escaping the root would be a bug, not a user input.
        return path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"Blob name '{name}' leaves the store's directory.", nameof(name));
    }
}
