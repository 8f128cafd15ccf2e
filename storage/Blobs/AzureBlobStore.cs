using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace SparOrleans.Storage.Blobs;

/// <summary>Azure Blob Storage (or Azurite) backend with ETag conditions, as the official Orleans provider uses them.</summary>
public sealed class AzureBlobStore : IBlobStore
{
    private readonly BlobContainerClient _container;

    public AzureBlobStore(string connectionString, string containerName)
    {
        var options = new BlobClientOptions();
        // Retries belong to our Polly pipeline, which also sees conflicts and timeouts; the SDK's own retry loop
        // would hide failures for minutes while a grain holds its turn.
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        _container = new BlobContainerClient(connectionString, containerName, options);
    }

    public string Describe => $"{_container.Uri}";

    public async Task EnsureContainerAsync(CancellationToken cancellationToken) =>
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    public async Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            return new StoredBlob(response.Value.Content, response.Value.Details.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<string> WriteAsync(string name, BinaryData data, string? expectedETag, CancellationToken cancellationToken)
    {
        var options = new BlobUploadOptions
        {
            Conditions = expectedETag is null
                ? new BlobRequestConditions { IfNoneMatch = ETag.All }
                : new BlobRequestConditions { IfMatch = new ETag(expectedETag) },
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        };
        try
        {
            var response = await _container.GetBlobClient(name).UploadAsync(data, options, cancellationToken);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new BlobConflictException(name, expectedETag, e.ErrorCode);
        }
    }

    public async Task DeleteAsync(string name, string? expectedETag, CancellationToken cancellationToken)
    {
        var conditions = expectedETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(expectedETag) };
        try
        {
            await _container.GetBlobClient(name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new BlobConflictException(name, expectedETag, e.ErrorCode);
        }
    }

    public async IAsyncEnumerable<string> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            yield return item.Name;
        }
    }
}
