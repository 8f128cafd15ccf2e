using SparOrleans.Storage.Blobs;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Storage.Tests;

/// <summary>The ETag contract both backends must keep; each backend runs the same tests.</summary>
public abstract class BlobStoreContractTests
{
    protected abstract IBlobStore Store { get; }

    private static string NewName() => $"contract/{Guid.NewGuid():N}.json";

    [Fact]
    public async Task ReadAsync_MissingBlob_ReturnsNull()
    {
        await Store.EnsureContainerAsync(default);
        Assert.Null(await Store.ReadAsync(NewName(), default));
    }

    [Fact]
    public async Task WriteAsync_NewBlobThenRead_ReturnsBytesAndSameETag()
    {
        await Store.EnsureContainerAsync(default);
        var name = NewName();
        var etag = await Store.WriteAsync(name, BinaryData.FromString("{\"a\":1}"), null, default);
        var read = await Store.ReadAsync(name, default);
        Assert.NotNull(read);
        Assert.Equal("{\"a\":1}", read.Data.ToString());
        Assert.Equal(etag, read.ETag);
    }

    [Fact]
    public async Task WriteAsync_NullETagOnExistingBlob_ThrowsConflict()
    {
        await Store.EnsureContainerAsync(default);
        var name = NewName();
        await Store.WriteAsync(name, BinaryData.FromString("1"), null, default);
        await Assert.ThrowsAsync<BlobConflictException>(() => Store.WriteAsync(name, BinaryData.FromString("2"), null, default));
        Assert.Equal("1", (await Store.ReadAsync(name, default))!.Data.ToString());
    }

    [Fact]
    public async Task WriteAsync_StaleETag_ThrowsConflictAndKeepsNewerData()
    {
        await Store.EnsureContainerAsync(default);
        var name = NewName();
        var first = await Store.WriteAsync(name, BinaryData.FromString("1"), null, default);
        var second = await Store.WriteAsync(name, BinaryData.FromString("2"), first, default);
        Assert.NotEqual(first, second);
        await Assert.ThrowsAsync<BlobConflictException>(() => Store.WriteAsync(name, BinaryData.FromString("3"), first, default));
        Assert.Equal("2", (await Store.ReadAsync(name, default))!.Data.ToString());
    }

    [Fact]
    public async Task DeleteAsync_MatchingETag_RemovesBlob_StaleETag_Throws()
    {
        await Store.EnsureContainerAsync(default);
        var name = NewName();
        var first = await Store.WriteAsync(name, BinaryData.FromString("1"), null, default);
        var second = await Store.WriteAsync(name, BinaryData.FromString("2"), first, default);
        await Assert.ThrowsAsync<BlobConflictException>(() => Store.DeleteAsync(name, first, default));
        await Store.DeleteAsync(name, second, default);
        Assert.Null(await Store.ReadAsync(name, default));
        await Store.DeleteAsync(name, null, default);
    }

    [Fact]
    public async Task ListAsync_Prefix_ReturnsOnlyMatchingNames()
    {
        await Store.EnsureContainerAsync(default);
        var prefix = $"list-{Guid.NewGuid():N}/";
        await Store.WriteAsync(prefix + "a.json", BinaryData.FromString("a"), null, default);
        await Store.WriteAsync(prefix + "b/c.json", BinaryData.FromString("c"), null, default);
        await Store.WriteAsync($"other-{Guid.NewGuid():N}.json", BinaryData.FromString("x"), null, default);
        var names = new List<string>();
        await foreach (var n in Store.ListAsync(prefix, default))
        {
            names.Add(n);
        }
        Assert.Equal([prefix + "a.json", prefix + "b/c.json"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersWithSameETag_ExactlyOneWins()
    {
        await Store.EnsureContainerAsync(default);
        var name = NewName();
        var etag = await Store.WriteAsync(name, BinaryData.FromString("0"), null, default);
        var attempts = Enumerable.Range(1, 8).Select(async i =>
        {
            try
            {
                await Store.WriteAsync(name, BinaryData.FromString(i.ToString()), etag, default);
                return true;
            }
            catch (BlobConflictException)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(attempts);
        Assert.Equal(1, results.Count(r => r));
    }
}

public sealed class AzureBlobStoreTests(AzuriteFixture azurite) : BlobStoreContractTests, IClassFixture<AzuriteFixture>
{
    protected override IBlobStore Store { get; } = new AzureBlobStore(azurite.ConnectionString, "contract-tests");
}

public sealed class DirectoryBlobStoreTests : BlobStoreContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"blobs-{Guid.NewGuid():N}");

    public DirectoryBlobStoreTests() => Store = new DirectoryBlobStore(_root);

    protected override IBlobStore Store { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
