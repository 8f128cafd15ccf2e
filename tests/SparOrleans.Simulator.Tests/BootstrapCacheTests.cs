namespace SparOrleans.Simulator.Tests;

public class BootstrapCacheTests
{
    [Fact]
    public async Task ActorAsync_SameOptionsTwice_SecondCopiesTheStoredModel()
    {
        var root = TestPaths.TempDir();
        try
        {
            var cache = new BootstrapCache(Path.Combine(root, "cache"));
            var first = await cache.ActorAsync(SimulatorOptions.Tiny, Path.Combine(root, "run1", "actor-0"));
            var second = await cache.ActorAsync(SimulatorOptions.Tiny, Path.Combine(root, "run2", "actor-0"));

            Assert.False(first.Cached);
            Assert.True(second.Cached);
            Assert.Equal(first.Steps, second.Steps);
            Assert.Equal(Path.Combine(root, "run2", "actor-0"), second.ModelDir);
            var files = Directory.GetFiles(first.ModelDir).Select(Path.GetFileName).Order().ToList();
            Assert.Equal(files, Directory.GetFiles(second.ModelDir).Select(Path.GetFileName).Order().ToList());
            foreach (var file in files)
            {
                Assert.Equal(File.ReadAllBytes(Path.Combine(first.ModelDir, file!)), File.ReadAllBytes(Path.Combine(second.ModelDir, file!)));
            }
            Assert.DoesNotContain(Directory.GetDirectories(cache.Root), d => d.Contains(".tmp-", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task RefinerAsync_SameOptionsTwice_SecondIsCachedWithTheFirstFigures()
    {
        var root = TestPaths.TempDir();
        try
        {
            var cache = new BootstrapCache(Path.Combine(root, "cache"));
            var actor = Path.Combine(root, "run1", "actor-0");
            await cache.ActorAsync(SimulatorOptions.Tiny, actor);
            var first = await cache.RefinerAsync(SimulatorOptions.Tiny, actor, Path.Combine(root, "run1", "refiner-0"));
            var second = await cache.RefinerAsync(SimulatorOptions.Tiny, actor, Path.Combine(root, "run2", "refiner-0"));

            Assert.False(first.Cached);
            Assert.True(second.Cached);
            Assert.Equal(first.Counts, second.Counts);
            Assert.True(File.Exists(Path.Combine(second.ModelDir, "config.json")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ActorAsync_Refresh_TrainsAgainAndReplacesTheEntryALaterReaderCopies()
    {
        var root = TestPaths.TempDir();
        try
        {
            var cacheDir = Path.Combine(root, "cache");
            await new BootstrapCache(cacheDir).ActorAsync(SimulatorOptions.Tiny, Path.Combine(root, "run1", "actor-0"));
            var entry = Directory.GetDirectories(cacheDir).Single();
            var marker = Path.Combine(entry, "stale-marker");
            File.WriteAllText(marker, "from the first training");

            var refreshed = await new BootstrapCache(cacheDir, refresh: true).ActorAsync(SimulatorOptions.Tiny, Path.Combine(root, "run2", "actor-0"));
            var reused = await new BootstrapCache(cacheDir).ActorAsync(SimulatorOptions.Tiny, Path.Combine(root, "run3", "actor-0"));

            Assert.False(refreshed.Cached);
            Assert.False(File.Exists(marker));
            Assert.True(reused.Cached);
            Assert.Equal(File.ReadAllBytes(Path.Combine(refreshed.ModelDir, "model.safetensors")), File.ReadAllBytes(Path.Combine(reused.ModelDir, "model.safetensors")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Keys_BootstrapOptionsDiffer_KeysDiffer()
    {
        var tiny = SimulatorOptions.Tiny;

        Assert.Equal(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(tiny with { }));
        Assert.NotEqual(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(tiny with { Seed = 2 }));
        Assert.NotEqual(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(tiny with { ActorSft = tiny.ActorSft with { MaxSteps = 4 } }));
        // Settings of the iterations and evaluations do not touch M_0/R_0: they share the cached models.
        Assert.Equal(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(tiny with { IterationPrompts = 99, HeldOutCount = 7 }));
        Assert.Equal(BootstrapCache.RefinerKey(tiny), BootstrapCache.RefinerKey(tiny with { Dpo = tiny.Dpo with { Beta = 0.2 } }));
        Assert.NotEqual(BootstrapCache.RefinerKey(tiny), BootstrapCache.RefinerKey(tiny with { RefineShare = 0.5 }));
        Assert.NotEqual(BootstrapCache.RefinerKey(tiny), BootstrapCache.RefinerKey(tiny with { Seed = 2 }));
    }

    [Fact]
    public void Keys_BootstrapSeedSet_TheLoopSeedNoLongerChangesThem()
    {
        var tiny = SimulatorOptions.Tiny;
        var experiment = tiny with { Seed = 3, BootstrapSeed = tiny.Seed };

        Assert.Equal(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(experiment));
        Assert.Equal(BootstrapCache.RefinerKey(tiny), BootstrapCache.RefinerKey(experiment));
        Assert.NotEqual(BootstrapCache.ActorKey(tiny), BootstrapCache.ActorKey(experiment with { BootstrapSeed = 2 }));
        Assert.Equal(tiny, experiment.ForBootstrap());
    }

    [Fact]
    public void Keys_QuickPreset_SharesTheDefaultBootstrap()
    {
        // --quick is the default's M_0/R_0 with a small loop: after one run of either preset the other starts from the
        // cached models (README.md says the first quick run trains them).
        Assert.Equal(BootstrapCache.ActorKey(SimulatorOptions.Default), BootstrapCache.ActorKey(SimulatorOptions.Quick));
        Assert.Equal(BootstrapCache.RefinerKey(SimulatorOptions.Default), BootstrapCache.RefinerKey(SimulatorOptions.Quick));
        Assert.True(SimulatorOptions.Quick.IterationPrompts * SimulatorOptions.Quick.SamplesPerPrompt
            < SimulatorOptions.Default.IterationPrompts * SimulatorOptions.Default.SamplesPerPrompt);
    }
}
