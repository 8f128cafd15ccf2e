namespace SparOrleans.Storage.Blobs;

/// <summary>A blob as read back: its bytes and the ETag to pass to the next conditional write.</summary>
public sealed record StoredBlob(BinaryData Data, string ETag);

/// <summary>
/// The conditional blob operations grain storage needs. Both backends (Azure Blob and a local directory) keep the
/// same optimistic-concurrency contract, so grains behave identically on a laptop and in a cluster.
/// </summary>
public interface IBlobStore
{
    /// <summary>A short description for messages and logs (endpoint and container, or directory).</summary>
    string Describe { get; }

    Task EnsureContainerAsync(CancellationToken cancellationToken);

    /// <summary>The blob, or null when it does not exist.</summary>
    Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Writes when the stored ETag equals <paramref name="expectedETag"/>; a null ETag means "must not exist yet".
    /// Returns the new ETag; throws <see cref="BlobConflictException"/> when the condition fails.
    /// </summary>
    Task<string> WriteAsync(string name, BinaryData data, string? expectedETag, CancellationToken cancellationToken);

    /// <summary>Deletes under the same condition as <see cref="WriteAsync"/>; deleting a missing blob with a null ETag is a no-op.</summary>
    Task DeleteAsync(string name, string? expectedETag, CancellationToken cancellationToken);

    /// <summary>Names under <paramref name="prefix"/> (used by tools that list runs).</summary>
    IAsyncEnumerable<string> ListAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>The stored ETag differs from the one the writer expected: someone else wrote first.</summary>
public sealed class BlobConflictException(string name, string? expectedETag, string? detail = null)
    : Exception($"Blob '{name}' changed since it was read (expected ETag {expectedETag ?? "<none: new blob>"}){(detail is null ? "" : $": {detail}")}.")
{
    public string BlobName { get; } = name;
}
