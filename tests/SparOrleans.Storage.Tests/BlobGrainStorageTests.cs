using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using SparOrleans.Storage.Blobs;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Storage.Tests;

[GenerateSerializer, Alias("storage-tests.tree-state")]
public sealed record TreeState
{
    [Id(0)] public string Prompt { get; init; } = "";
    [Id(1)] public List<string> Nodes { get; init; } = [];
    [Id(2)] public int Version { get; init; }
}

public sealed class BlobGrainStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly IActivatorProvider Activators =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<IActivatorProvider>();

    private BlobGrainStorage CreateStorage(string container = "grain-tests") => new(
        "test",
        new AzureBlobStore(azurite.ConnectionString, container),
        StorageResilience.Create(new BlobStorageOptions { ConnectionString = azurite.ConnectionString }),
        Activators,
        NullLogger<BlobGrainStorage>.Instance);

    private static GrainId NewGrainId() => GrainId.Create("prompt", Guid.NewGuid().ToString("N"));

    private async Task<BlobGrainStorage> ReadyStorageAsync()
    {
        var storage = CreateStorage();
        await new AzureBlobStore(azurite.ConnectionString, "grain-tests").EnsureContainerAsync(default);
        return storage;
    }

    [Fact]
    public async Task ReadStateAsync_NothingStored_GivesDefaultStateWithoutETag()
    {
        var storage = await ReadyStorageAsync();
        var state = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", NewGrainId(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Empty(state.State!.Nodes);
    }

    [Fact]
    public async Task WriteStateAsync_ThenRead_RoundTripsStateAndETag()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        var written = new GrainState<TreeState>(new TreeState { Prompt = "Write “a story” — ünïcode", Nodes = ["root", "child"], Version = 3 });
        await storage.WriteStateAsync("state", id, written);
        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);

        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(written.State!.Prompt, read.State!.Prompt);
        Assert.Equal(written.State!.Nodes, read.State!.Nodes);
        Assert.Equal(3, read.State!.Version);
    }

    [Fact]
    public async Task WriteStateAsync_StaleETag_ThrowsInconsistentStateException()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 1 }));
        var a = new GrainState<TreeState>();
        var b = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, a);
        await storage.ReadStateAsync("state", id, b);
        a.State = a.State! with { Version = 2 };
        await storage.WriteStateAsync("state", id, a);
        b.State = b.State! with { Version = 99 };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("state", id, b));

        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.Equal(2, read.State!.Version);
    }

    [Fact]
    public async Task WriteStateAsync_SecondActivationCreatingSameGrain_ThrowsInconsistentStateException()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 1 }));
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 7 })));
    }

    [Fact]
    public async Task ClearStateAsync_Written_RemovesRecordAndAllowsFreshWrite()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        var state = new GrainState<TreeState>(new TreeState { Version = 5, Nodes = ["x"] });
        await storage.WriteStateAsync("state", id, state);
        await storage.ClearStateAsync("state", id, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Empty(state.State!.Nodes);

        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.False(read.RecordExists);
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 6 }));
    }

    [Fact]
    public async Task WriteStateAsync_LargeTree_RoundTrips()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        // A tree far larger than any search makes (15 expansions): 20k nodes of ~200 characters, ~4 MB of JSON.
        var nodes = Enumerable.Range(0, 20_000).Select(i => $"node {i}: " + new string((char)('a' + i % 26), 190)).ToList();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Nodes = nodes }));
        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.Equal(nodes, read.State!.Nodes);
    }

    [Fact]
    public async Task ReadStateAsync_CorruptBlob_FailsLoudlyNamingTheBlob()
    {
        var storage = await ReadyStorageAsync();
        var id = NewGrainId();
        var store = new AzureBlobStore(azurite.ConnectionString, "grain-tests");
        await store.WriteAsync(BlobGrainStorage.BlobName("state", id), BinaryData.FromString("{not json"), null, default);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("state", id, new GrainState<TreeState>()));
        Assert.Contains(BlobGrainStorage.BlobName("state", id), e.Message);
    }
}
