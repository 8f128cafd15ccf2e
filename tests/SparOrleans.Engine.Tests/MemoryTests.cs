using System.Diagnostics;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Training;
using Xunit.Abstractions;

namespace SparOrleans.Engine.Tests;

public class MemoryTests(ITestOutputHelper output)
{
    private static double RssMib()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64 / 1024.0 / 1024.0;
    }

    [Fact]
    public void Sft_ThousandStepsOfVaryingLengths_RssStaysFlat()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 1, heads: 2);
        var rng = new Random(4);
        // Lengths vary from batch to batch, the pattern that fragments malloc when tensors leak or linger.
        var data = Enumerable.Range(0, 400).Select(_ => TestSupport.LettersExample(model, rng.Next(1, 60), (char)('a' + rng.Next(26)))).ToList();
        var options = new SftOptions { MaxSteps = 1000, Epochs = 1000, BatchSize = 4, MicroBatchSize = 4, BucketBatches = 1, LearningRate = 1e-3 };
        using var trainer = new SftTrainer(model, options);
        trainer.Train(data, stopAtStep: 100);
        GC.Collect();
        var early = RssMib();
        var summary = trainer.Train(data);
        GC.Collect();
        var late = RssMib();
        output.WriteLine($"RSS after 100 steps {early:F0} MiB, after {summary.Steps} steps {late:F0} MiB");
        Assert.Equal(1000, summary.Steps);
        Assert.True(late - early < 64, $"RSS grew from {early:F0} to {late:F0} MiB over 900 steps");
    }

    [Fact]
    public void Generate_RepeatedBatches_RssStaysFlat()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 1, heads: 2);
        var requests = Enumerable.Range(0, 16).Select(i => GenerationRequest.FromUser(new string('p', i + 1)) with { Seed = i, MaxNewTokens = 8 + i, StopAtEndOfTurn = false }).ToList();
        for (var i = 0; i < 10; i++)
        {
            BatchGenerator.Generate(model, requests, maxBatchSize: 6);
        }
        GC.Collect();
        var early = RssMib();
        for (var i = 0; i < 60; i++)
        {
            BatchGenerator.Generate(model, requests, maxBatchSize: 6);
        }
        GC.Collect();
        var late = RssMib();
        output.WriteLine($"RSS {early:F0} -> {late:F0} MiB");
        Assert.True(late - early < 48, $"RSS grew from {early:F0} to {late:F0} MiB");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Service_ThousandBatchesWithPrefixSharing_RssStaysFlat(int workers)
    {
        // Prompts change from batch to batch, so the prefix cache (a small budget here) keeps evicting, and each
        // batch repeats prompts, so shared rows are copied: neither may leave tensors behind. With two workers the
        // cache is shared and its entries leased: an entry evicted while leased must still be freed.
        using var model = TestSupport.TinyModel(d: 32, layers: 1, heads: 2);
        await using var service = new GenerationService(model,
            new GenerationServiceOptions { MaxBatchSize = 8, Threads = 1, PrefixCacheTokens = 200, Workers = workers });
        async Task Batch(int i)
        {
            var requests = Enumerable.Range(0, 6).Select(v => GenerationRequest.FromUser($"judge {i % 37} {new string('r', i % 23)}") with
            {
                Seed = v,
                MaxNewTokens = 2 + v % 3,
                StopAtEndOfTurn = false,
            });
            await service.GenerateAllAsync([.. requests]);
        }
        for (var i = 0; i < 100; i++)
        {
            await Batch(i);
        }
        GC.Collect();
        var early = RssMib();
        for (var i = 100; i < 1000; i++)
        {
            await Batch(i);
        }
        GC.Collect();
        var late = RssMib();
        output.WriteLine($"{workers} worker(s): RSS after 100 batches {early:F0} MiB, after 1,000 {late:F0} MiB; prefix hit rate {service.PrefixSharing.HitRate:F2}");
        Assert.True(service.PrefixSharing.HitRate > 0.5, $"hit rate {service.PrefixSharing.HitRate:F2}");
        Assert.True(late - early < 48, $"RSS grew from {early:F0} to {late:F0} MiB over 900 batches");
    }
}
