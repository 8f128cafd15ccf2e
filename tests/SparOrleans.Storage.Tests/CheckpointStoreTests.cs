using SparOrleans.Storage.Blobs;
using SparOrleans.Storage.Checkpoints;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Storage.Tests;

/// <summary>Checkpoints through blob storage, against a real Azurite: what one silo publishes another can load.</summary>
public sealed class CheckpointStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spar-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CheckpointStore Store() => new(new AzureBlobStore(azurite.ConnectionString, "checkpoint-tests"));

    private string Checkpoint(string name)
    {
        var dir = Path.Combine(_root, "silo-a", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), """{"hidden_size": 128}""");
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        return dir;
    }

    [Fact]
    public async Task EnsureLocalAsync_PublishedElsewhere_DownloadsIdenticalFiles()
    {
        var run = $"run-{Guid.NewGuid():N}";
        var source = Checkpoint("actor-1");
        await Store().UploadAsync($"{run}/actor-1", source);
        var target = Path.Combine(_root, "silo-b", "models", "actor-1");

        Assert.True(await Store().EnsureLocalAsync($"{run}/actor-1", target));

        foreach (var file in Directory.GetFiles(source))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(target, Path.GetFileName(file))));
        }
        Assert.Equal(2, Directory.GetFiles(target).Length);
        Assert.Single(Directory.GetDirectories(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public async Task EnsureLocalAsync_NeverPublished_ReturnsFalseAndCreatesNothing()
    {
        var target = Path.Combine(_root, "silo-b", "actor-9");

        Assert.False(await Store().EnsureLocalAsync($"run-{Guid.NewGuid():N}/actor-9", target));

        Assert.False(Directory.Exists(target));
        Assert.False(Directory.Exists(Path.Combine(_root, "silo-b")) && Directory.EnumerateFileSystemEntries(Path.Combine(_root, "silo-b")).Any());
    }

    [Fact]
    public async Task UploadAsync_Republished_ReplacesTheStoredFiles()
    {
        var run = $"run-{Guid.NewGuid():N}";
        var source = Checkpoint("refiner-1");
        await Store().UploadAsync($"{run}/refiner-1", source);
        File.WriteAllText(Path.Combine(source, "config.json"), """{"hidden_size": 64}""");
        await Store().UploadAsync($"{run}/refiner-1", source);
        var target = Path.Combine(_root, "silo-c", "refiner-1");

        await Store().EnsureLocalAsync($"{run}/refiner-1", target);

        Assert.Equal("""{"hidden_size": 64}""", File.ReadAllText(Path.Combine(target, "config.json")));
    }

    [Fact]
    public async Task EnsureLocalAsync_DirectoryAlreadyThere_KeepsItWithoutDownloading()
    {
        var local = Checkpoint("actor-2");

        Assert.True(await Store().EnsureLocalAsync($"run-{Guid.NewGuid():N}/actor-2", local));

        Assert.Equal("""{"hidden_size": 128}""", File.ReadAllText(Path.Combine(local, "config.json")));
    }
}
