using Microsoft.Extensions.Logging.Abstractions;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Models.Generation;

namespace SparOrleans.Models.Tests;

/// <summary>
/// The GPU silo's model host with several runs' versions at once (a cluster's concurrent runs): each call is answered by
/// the version it names, versions stay loaded up to the limit, the least recently used is unloaded first.
/// </summary>
public sealed class ModelHostTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spar-model-host-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private sealed class LocalCheckpoints : ICheckpointSource
    {
        public Task EnsureLocalAsync(string name, string directory, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private static ModelHost Host(int resident) =>
        new(new ModelHostOptions { ResidentModels = resident, Workers = 2, MaxBatchSize = 8 }, new LocalCheckpoints(), NullLogger<ModelHost>.Instance);

    /// <summary>A checkpoint of a tiny model of its own weights (<paramref name="seed"/>), as a run's version of <paramref name="role"/>.</summary>
    private ModelRef Version(string version, ModelRole role, int seed)
    {
        var directory = Path.Combine(_root, version.Replace('/', '_'));
        if (!Directory.Exists(directory))
        {
            using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: seed);
            ModelCheckpoint.Save(model, directory);
        }
        return new ModelRef(role, version, directory);
    }

    private static GenerationCall Call(int i) => new([new Turn("user", $"say something {i}")], Temperature: 1, TopP: 1, MaxNewTokens: 6, Seed: i);

    [Fact]
    public async Task GenerateAsync_ThreeRunsOnOneLoadedModel_EveryCallAnsweredByTheVersionItNames()
    {
        // One model loaded at a time and three runs' actors asked for at once: versions are loaded and unloaded under the
        // calls. With a slot per role, a call that had found its version loaded could be queued after another run's
        // version replaced it and be answered by that model, or reach it after the swap had disposed it.
        var versions = new[] { Version("a/actor-0", ModelRole.Actor, 1), Version("b/actor-0", ModelRole.Actor, 2), Version("c/actor-0", ModelRole.Actor, 3) };
        var calls = Enumerable.Range(0, 3).Select(Call).ToList();
        // Each version's answers decoded on its own, by the static batch generator (no service, no host).
        var expected = versions.ToDictionary(v => v.Version, v =>
        {
            using var model = ModelCheckpoint.Load(v.CheckpointDirectory);
            return BatchGenerator.Generate(model, [.. calls.Select(ModelHost.ToRequest)]).Select(r => r.Text).ToList();
        });
        Assert.Equal(3, expected.Values.Select(texts => string.Join("|", texts)).Distinct().Count());

        await using var host = Host(resident: 1);
        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            var version = versions[(i * 7 + i / 5) % 3];
            return (version.Version, Generated: await host.GenerateAsync(version, calls, CancellationToken.None));
        })));

        foreach (var (version, generated) in answers)
        {
            Assert.Equal(expected[version], generated.Select(g => g.Text));
            Assert.All(generated, g => Assert.Equal(version, g.ModelVersion));
        }
        Assert.True(host.Loads > 3, $"{host.Loads} loads: the calls never made the host unload a version");
        Assert.Single(host.Loaded);
    }

    [Fact]
    public async Task GenerateAsync_OneRunsActorAndRefinerThroughTwoIterations_EachVersionLoadedOnce()
    {
        await using var host = Host(resident: 2);
        var calls = new[] { Call(1) };
        // Sampling on the actor, judging and search on the refiner, then the next iteration's pair.
        foreach (var iteration in new[] { 1, 2 })
        {
            var actor = Version($"r/actor-{iteration}", ModelRole.Actor, iteration);
            var refiner = Version($"r/refiner-{iteration}", ModelRole.Refiner, 10 + iteration);
            await host.GenerateAsync(actor, calls, CancellationToken.None);
            await host.GenerateAsync(refiner, calls, CancellationToken.None);
            await host.GenerateAsync(refiner, calls, CancellationToken.None);
        }

        Assert.Equal(4, host.Loads);
        Assert.Equal(0, host.Reloads);
        Assert.Equal(["r/refiner-2", "r/actor-2"], host.Loaded);
    }

    [Fact]
    public async Task GenerateAsync_PastTheLimit_TheLeastRecentlyUsedVersionIsUnloadedAndReloadedWhenAskedAgain()
    {
        await using var host = Host(resident: 2);
        var calls = new[] { Call(1) };
        var (a, b, c) = (Version("a/actor-1", ModelRole.Actor, 1), Version("b/actor-1", ModelRole.Actor, 2), Version("c/actor-1", ModelRole.Actor, 3));
        var first = await host.GenerateAsync(a, calls, CancellationToken.None);
        await host.GenerateAsync(b, calls, CancellationToken.None);
        await host.GenerateAsync(a, calls, CancellationToken.None);
        await host.GenerateAsync(c, calls, CancellationToken.None);

        Assert.Equal(["c/actor-1", "a/actor-1"], host.Loaded);
        Assert.Equal(3, host.Loads);
        await host.GenerateAsync(b, calls, CancellationToken.None);
        Assert.Equal(["b/actor-1", "c/actor-1"], host.Loaded);
        Assert.Equal(first.Select(g => g.Text), (await host.GenerateAsync(a, calls, CancellationToken.None)).Select(g => g.Text));
        Assert.Equal(5, host.Loads);
        Assert.Equal(2, host.Reloads);
    }

    [Fact]
    public void Options_ResidentModelsOutOfRange_RefusedWithItsName()
    {
        var problems = new ModelHostOptions { ResidentModels = 0 }.Problems().ToList();
        Assert.Contains(problems, p => p.Contains("ResidentModels"));
    }
}
