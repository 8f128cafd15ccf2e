using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Tests;

/// <summary>A service with several decoding threads: the same tokens as one batch, both threads decoding, swaps and prefix sharing intact.</summary>
public class GenerationWorkerTests
{
    private static GenerationRequest Request(string text, long seed, double temperature = 1.0, int max = 24) =>
        GenerationRequest.FromUser(text) with { Seed = seed, Temperature = temperature, MaxNewTokens = max, StopAtEndOfTurn = false };

    private static GenerationServiceOptions TwoWorkers(int maxBatch = 8) => new() { Workers = 2, Threads = 1, MaxBatchSize = maxBatch };

    [Fact]
    public async Task GenerateAsync_TwoWorkers_MatchOneStaticBatchAndBothDecode()
    {
        using var model = TestSupport.TinyModel();
        // Greedy and sampled rows of different lengths: each row's tokens are its own, whichever thread and batch ran it.
        var requests = Enumerable.Range(0, 48).Select(i => Request($"prompt {i}", seed: i, temperature: i % 3 == 0 ? 0 : 1.0, max: 4 + i % 13)).ToList();
        var expected = BatchGenerator.Generate(model, requests);
        await using var service = new GenerationService(model, TwoWorkers());
        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => service.GenerateAsync(r))));
        Assert.Equal(expected.Select(r => r.TokenIds), results.Select(r => r.TokenIds));
        Assert.Equal(48, service.Statistics.Completed);
        Assert.All(service.StepsPerWorker, steps => Assert.True(steps > 0, $"steps per worker {string.Join(", ", service.StepsPerWorker)}"));
        Assert.Equal(service.StepsPerWorker.Sum(), service.Statistics.Steps);
    }

    [Fact]
    public async Task SwapModel_TwoWorkersBusy_OldRowsFinishOnOldModelAndItRetiresOnceBothAreDone()
    {
        using var first = TestSupport.TinyModel(seed: 1);
        using var second = TestSupport.TinyModel(seed: 2);
        second.Version = "v1";
        await using var service = new GenerationService(first, TwoWorkers(maxBatch: 4));
        var before = Enumerable.Range(0, 8).Select(i => service.GenerateAsync(Request($"a{i}", i, max: 40))).ToList();
        var retired = service.SwapModel(second);
        var after = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => service.GenerateAsync(Request($"a{i}", i, max: 5))));
        Assert.All(await Task.WhenAll(before), r => Assert.Equal("v0", r.ModelVersion));
        Assert.All(after, r => Assert.Equal("v1", r.ModelVersion));
        await retired.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(second, service.CurrentModel);
    }

    [Fact]
    public async Task SwapModel_BothWorkersIdleWithDecodersOfTheOldModel_RetiresIt()
    {
        // Both workers decoded on the old model and wait for work: each must wake to let its decoder go (a swap once
        // hung a run here when one worker took both wake-ups).
        using var first = TestSupport.TinyModel(seed: 1);
        using var second = TestSupport.TinyModel(seed: 2);
        await using var service = new GenerationService(first, TwoWorkers(maxBatch: 4));
        for (var round = 0; round < 3; round++)
        {
            await service.GenerateAllAsync([.. Enumerable.Range(0, 32).Select(i => Request($"b{i}", i, max: 8))]);
            Assert.All(service.StepsPerWorker, steps => Assert.True(steps > 0));
            await service.SwapModel(round % 2 == 0 ? second : first).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task SwapModel_ManyTimesWhileCallersSubmit_RetiredModelsDisposedAsTheHostDoesAndNoRequestMeetsOne()
    {
        // The model host disposes a model once its swap completes. A worker that had taken a request off the queue but
        // not yet made a decoder for its model held nothing the retirement looked at: the other worker completed the
        // swap, and the request reached a disposed model (a run on a cluster failed with ObjectDisposedException).
        var current = TestSupport.TinyModel(seed: 0);
        await using var service = new GenerationService(current, TwoWorkers(maxBatch: 4));
        using var stop = new CancellationTokenSource();
        var served = 0;
        var callers = Enumerable.Range(0, 3).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await service.GenerateAllAsync([Request($"c{c} {i}", i, max: 1 + i % 3), Request($"c{c} {i}", i + 1, max: 1)]);
                Interlocked.Add(ref served, 2);
            }
        })).ToList();
        for (var swap = 1; swap <= 150; swap++)
        {
            var next = TestSupport.TinyModel(seed: swap);
            await service.SwapModel(next).WaitAsync(TimeSpan.FromSeconds(30));
            current.Dispose();
            current = next;
        }
        stop.Cancel();
        await Task.WhenAll(callers);
        current.Dispose();
        Assert.True(served > 150, $"only {served} requests served during 150 swaps");
    }

    [Fact]
    public async Task Admit_OneModelFailsWhileAnothersRequestsWait_TheWaitingRequestsAreServedAndTheServiceGoesOn()
    {
        // A failing batch fails its own rows only: the worker's batch of another model, decoding meanwhile, and requests
        // for that model taken in the same round carry on (they used to be failed with it).
        using var healthy = TestSupport.TinyModel(seed: 1);
        var broken = TestSupport.TinyModel(seed: 2);
        await using var service = new GenerationService(new Dictionary<string, LanguageModel> { ["broken"] = broken, ["healthy"] = healthy },
            new GenerationServiceOptions { Workers = 1, Threads = 1, MaxBatchSize = 8 });
        var running = service.GenerateAsync("healthy", Request("keeps the worker stepping", 1, max: 400));
        broken.Dispose();
        var failing = service.GenerateAsync("broken", Request("x", 2, max: 3));
        var waiting = service.GenerateAsync("healthy", Request("y", 3, max: 3));

        await Assert.ThrowsAsync<ObjectDisposedException>(() => failing);
        Assert.Equal(3, (await waiting.WaitAsync(TimeSpan.FromSeconds(30))).TokenIds.Count);
        Assert.Equal(4, (await service.GenerateAsync("healthy", Request("z", 4, max: 4)).WaitAsync(TimeSpan.FromSeconds(30))).TokenIds.Count);
        Assert.Equal(400, (await running.WaitAsync(TimeSpan.FromSeconds(60))).TokenIds.Count);
    }

    [Fact]
    public async Task GenerateAllAsync_VotesOnTwoWorkers_EachPromptPrefilledOnceAndTokensAsWithoutSharing()
    {
        using var model = TestSupport.TinyModel();
        // Seven prompts of five votes in batches of eight rows: the runs do not fit the rows evenly, and a run cut at a
        // worker's room could be taken up by the other worker before the first has prefilled it.
        var requests = Enumerable.Range(0, 7).SelectMany(p => Enumerable.Range(0, 5).Select(v => Request($"judge this answer number {p}", seed: p * 10 + v, max: 6))).ToList();
        var expected = BatchGenerator.Generate(model, requests, prefixSharing: false);
        await using var service = new GenerationService(model, TwoWorkers());
        var results = await service.GenerateAllAsync(requests);
        Assert.Equal(expected.Select(r => r.TokenIds), results.Select(r => r.TokenIds));
        Assert.Equal(35, service.PrefixSharing.Rows);
        Assert.Equal(28, service.PrefixSharing.Hits);
        Assert.All(service.StepsPerWorker, steps => Assert.True(steps > 0));
    }

    [Fact]
    public async Task GenerateAllAsync_ManyCallersAtOnce_EachCallersVotesPrefilledOnce()
    {
        using var model = TestSupport.TinyModel();
        // Twelve grains asking for their votes at the same moment: one call's requests are queued together, so its
        // prompt is prefilled once whatever the others submit meanwhile (the shared prefix cache serves later joins).
        var calls = Enumerable.Range(0, 12).Select(p => Enumerable.Range(0, 5).Select(v => Request($"response {p} is {new string('x', p)}", seed: v, max: 4)).ToList()).ToList();
        var expected = calls.Select(c => BatchGenerator.Generate(model, c, prefixSharing: false)).ToList();
        await using var service = new GenerationService(model, TwoWorkers(maxBatch: 16));
        var results = await Task.WhenAll(calls.Select(c => Task.Run(() => service.GenerateAllAsync(c))));
        Assert.Equal(expected.SelectMany(e => e.Select(r => r.TokenIds)), results.SelectMany(r => r.Select(x => x.TokenIds)));
        Assert.Equal(60, service.PrefixSharing.Rows);
        Assert.Equal(48, service.PrefixSharing.Hits);
    }

    [Fact]
    public async Task GenerateAllAsync_OneBadRequest_NoneQueued()
    {
        using var model = TestSupport.TinyModel();
        await using var service = new GenerationService(model, TwoWorkers());
        var bad = new[] { Request("fine", 1, max: 3), Request("too long", 2, max: 100_000) };
        // Refused as the call is made, before anything is queued (not as a faulted task).
        Assert.Throws<InvalidOptionsException>(Submit);
        void Submit() => _ = service.GenerateAllAsync(bad);
        Assert.Equal(0, service.PrefixSharing.Rows);
        var ok = await service.GenerateAllAsync([Request("fine", 1, max: 3)]);
        Assert.Equal(3, ok[0].TokenIds.Count);
    }

    [Fact]
    public async Task SubmitAll_OneWorker_SampledOutputsRepeatRunAfterRun()
    {
        // The bootstrap samples R_0's data this way: every request queued before the worker looks, so the batches,
        // whose rounding can flip a sampled token, are a function of the requests alone.
        using var model = TestSupport.TinyModel();
        var requests = Enumerable.Range(0, 120).Select(i => Request($"sample {i % 17} {new string('y', i % 9)}", seed: i, max: 3 + i % 11)).ToList();
        var runs = new List<string[]>();
        for (var run = 0; run < 3; run++)
        {
            await using var service = new GenerationService(model, new GenerationServiceOptions { MaxBatchSize = 16, Threads = 1 });
            var tasks = service.SubmitAll(GenerationService.DefaultSlot, requests);
            runs.Add([.. (await Task.WhenAll(tasks)).Select(r => string.Join(',', r.TokenIds))]);
        }
        Assert.Equal(runs[0], runs[1]);
        Assert.Equal(runs[0], runs[2]);
    }

    [Fact]
    public void Options_NoWorkers_Refused()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new GenerationServiceOptions { Workers = 0 }.Validated());
        Assert.Contains("workers", e.Message);
        Assert.Equal(1, new GenerationServiceOptions { Workers = 2, Threads = 1 }.ThreadsPerWorker);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), new GenerationServiceOptions { Workers = 2 }.ThreadsPerWorker);
    }
}
