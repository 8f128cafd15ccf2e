using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
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

    /// <summary>A figure a run did not measure (a model run without an evaluation set) is NaN.</summary>
    [Id(3)] public double Score { get; init; }
}

/// <summary>
/// The grain-storage contract both providers keep (the runs rely on it): missing state reads as default with no
/// ETag, a stale or duplicate create is an <see cref="InconsistentStateException"/>, NaN figures round-trip.
/// </summary>
public abstract class GrainStorageContractTests
{
    protected static readonly IActivatorProvider Activators =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<IActivatorProvider>();

    protected abstract Task<IGrainStorage> StorageAsync();

    protected static GrainId NewGrainId() => GrainId.Create("prompt", $"run-{Guid.NewGuid():N}/1/p0");

    [Fact]
    public async Task ReadStateAsync_NothingStored_GivesDefaultStateWithoutETag()
    {
        var storage = await StorageAsync();
        var state = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", NewGrainId(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Empty(state.State!.Nodes);
    }

    [Fact]
    public async Task WriteStateAsync_ThenRead_RoundTripsStateWithNaNAndETag()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        var written = new GrainState<TreeState>(new TreeState { Prompt = "Write “a story” — ünïcode", Nodes = ["root", "child"], Version = 3, Score = double.NaN });
        await storage.WriteStateAsync("state", id, written);
        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);

        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        var state = read.State!;
        Assert.Equal((written.State!.Prompt, 3), (state.Prompt, state.Version));
        Assert.Equal(written.State.Nodes, state.Nodes);
        Assert.True(double.IsNaN(state.Score));
    }

    [Fact]
    public async Task WriteStateAsync_StaleETag_ThrowsInconsistentStateExceptionAndKeepsTheFirstWrite()
    {
        var storage = await StorageAsync();
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
        var storage = await StorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 1 }));
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 7 })));
    }

    [Fact]
    public async Task ClearStateAsync_Written_RemovesRecordAndAllowsFreshWrite()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        var state = new GrainState<TreeState>(new TreeState { Version = 5, Nodes = ["x"] });
        await storage.WriteStateAsync("state", id, state);
        await storage.ClearStateAsync("state", id, state);
        Assert.False(state.RecordExists);
        Assert.Empty(state.State!.Nodes);

        var read = new GrainState<TreeState>();
        await storage.ReadStateAsync("state", id, read);
        Assert.False(read.RecordExists);
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 6 }));
    }
}

/// <summary>Our directory store, the embedded silo's: the contract, and a corrupt file stops the grain loudly.</summary>
public sealed class DirectoryGrainStorageTests : GrainStorageContractTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"spar-grain-storage-{Guid.NewGuid():N}");

    protected override Task<IGrainStorage> StorageAsync() =>
        Task.FromResult<IGrainStorage>(new DirectoryGrainStorage("test", new DirectoryBlobStore(_root), Activators, NullLogger<DirectoryGrainStorage>.Instance));

    [Fact]
    public async Task WriteStateAsync_State_IsReadableJsonFileAtTheDirectoryLayoutName()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 4, Score = double.NaN }));

        var stored = await new DirectoryBlobStore(_root).ReadAsync(GrainStateLayout.Directory.BlobName("state", id), default);
        using var json = System.Text.Json.JsonDocument.Parse(stored!.Data.ToString());
        Assert.Equal(4, json.RootElement.GetProperty("Version").GetInt32());
        Assert.Equal("NaN", json.RootElement.GetProperty("Score").GetString());
    }

    [Fact]
    public async Task ReadStateAsync_CorruptFile_FailsLoudlyNamingIt()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        await new DirectoryBlobStore(_root).WriteAsync(GrainStateLayout.Directory.BlobName("state", id), BinaryData.FromString("{not json"), null, default);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("state", id, new GrainState<TreeState>()));
        Assert.Contains(GrainStateLayout.Directory.BlobName("state", id), e.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

/// <summary>
/// The official Orleans Azure Blob provider as our silos configure it (our serializer, bounded retries) on Azurite:
/// the same contract, readable JSON blobs where <see cref="GrainStateLayout.AzureBlob"/> says (what the no-silo
/// readers rely on).
/// </summary>
public sealed class AzureBlobGrainStorageTests(AzuriteFixture azurite) : GrainStorageContractTests, IClassFixture<AzuriteFixture>
{
    private const string Container = "official-provider-tests";

    protected override Task<IGrainStorage> StorageAsync() => StorageAsync(azurite.ConnectionString);

    private static async Task<IGrainStorage> StorageAsync(string connection, bool createContainer = true)
    {
        var client = new BlobServiceClient(connection, Hosting.GrainStorageHostingExtensions.ClientOptions(new GrainStorageOptions { ConnectionString = connection }));
        var options = new AzureBlobStorageOptions { BlobServiceClient = client, ContainerName = Container, GrainStorageSerializer = GrainStateJson.Serializer };
        var containers = new SingleContainer(options.ContainerName);
        await containers.InitializeAsync(client, createContainer);
        return new AzureBlobGrainStorage("test", options, containers, Activators, NullLogger<AzureBlobGrainStorage>.Instance);
    }

    [Fact]
    public async Task StorageDown_ProviderFailure_StaysTransientAfterCrossingAGrainCall()
    {
        // Blob storage that stops answering mid-run: the provider's failure (after its bounded retries) travels back
        // through grain calls to the run, which retries its phase only if it still reads as transient there.
        var down = azurite.ConnectionString.Replace($":{azurite.Port}/", $":{RedisServer.FreePort()}/", StringComparison.Ordinal);
        var storage = await StorageAsync(down, createContainer: false);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() =>
            storage.WriteStateAsync("state", NewGrainId(), new GrainState<TreeState>(new TreeState { Version = 1 })));

        var crossed = CrossGrainCall(failure);

        Assert.True(StorageFaults.IsTransient(failure), failure.ToString());
        Assert.True(StorageFaults.IsTransient(crossed), crossed.ToString());
        Assert.Equal(failure.GetType(), crossed.GetType());
    }

    [Fact]
    public async Task WriteStateAsync_Conflict_StaysAnInconsistentStateExceptionAfterCrossingAGrainCall()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 1 }));
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 2 })));

        Assert.IsType<InconsistentStateException>(CrossGrainCall(conflict));
    }

    /// <summary>An exception as a caller receives it: through Orleans' serializer, as a grain call's result.</summary>
    private static Exception CrossGrainCall(Exception e)
    {
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        return serializer.Deserialize<Exception>(serializer.SerializeToArray(e))!;
    }

    [Fact]
    public async Task WriteStateAsync_State_IsReadableJsonBlobAtTheLayoutName()
    {
        var storage = await StorageAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync("state", id, new GrainState<TreeState>(new TreeState { Version = 4, Score = double.NaN }));

        var stored = await new AzureBlobStore(azurite.ConnectionString, Container).ReadAsync(GrainStateLayout.AzureBlob.BlobName("state", id), default);
        Assert.NotNull(stored);
        using var json = System.Text.Json.JsonDocument.Parse(stored.Data.ToString());
        Assert.Equal(4, json.RootElement.GetProperty("Version").GetInt32());
        Assert.Equal("NaN", json.RootElement.GetProperty("Score").GetString());
    }

    /// <summary>The provider's own container factory is internal; ours gives every grain the one container too.</summary>
    private sealed class SingleContainer(string name) : IBlobContainerFactory
    {
        private BlobContainerClient? _container;

        public BlobContainerClient GetBlobContainerClient(GrainId grainId) => _container!;

        public Task InitializeAsync(BlobServiceClient client) => InitializeAsync(client, create: true);

        public async Task InitializeAsync(BlobServiceClient client, bool create)
        {
            _container = client.GetBlobContainerClient(name);
            if (create)
            {
                await _container.CreateIfNotExistsAsync();
            }
        }
    }
}
