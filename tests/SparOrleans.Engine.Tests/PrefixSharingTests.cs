using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

public class PrefixSharingTests
{
    // Judging's shape: several votes (different seeds) on each of a few prompts, the votes of one prompt adjacent.
    private static List<GenerationRequest> Votes(int prompts, int votes, double temperature) =>
        Enumerable.Range(0, prompts).SelectMany(p => Enumerable.Range(0, votes).Select(v =>
            GenerationRequest.FromUser($"Judge response {p}: {new string((char)('a' + p), 5 + 3 * p)} ok?") with
            {
                Seed = 100 * p + v,
                Temperature = temperature,
                MaxNewTokens = 3 + (p + v) % 5,
                StopAtEndOfTurn = false,
            })).ToList();

    [Theory]
    [InlineData(0.0, 64)] // greedy, every vote in one join
    [InlineData(1.0, 64)] // sampled, every vote in one join
    [InlineData(0.0, 4)]  // greedy, votes split across joins: later ones come from the prefix cache
    [InlineData(1.0, 4)]
    public void Generate_SharedPrompts_SameTokensAsWithoutSharing(double temperature, int maxBatch)
    {
        using var model = TestSupport.TinyModel();
        var requests = Votes(prompts: 4, votes: 5, temperature);
        var without = BatchGenerator.Generate(model, requests, maxBatch, prefixSharing: false);
        var with = BatchGenerator.Generate(model, requests, maxBatch, prefixSharing: true);
        Assert.Equal(without.Select(r => r.TokenIds), with.Select(r => r.TokenIds));
        Assert.Equal(without.Select(r => r.PromptTokens), with.Select(r => r.PromptTokens));
        if (temperature > 0)
        {
            // The votes of one prompt really differ: sharing the prompt did not share the random streams.
            Assert.True(with.Take(5).Select(r => string.Join(",", r.TokenIds)).Distinct().Count() > 1);
        }
    }

    [Fact]
    public void Decoder_FiveVotesOnFourPrompts_PrefillsEachPromptOnce()
    {
        using var model = TestSupport.TinyModel();
        var requests = Votes(prompts: 4, votes: 5, temperature: 1.0);
        var rows = requests.Select(r => BatchDecoder.Prepare(model, r)).ToList();
        using var decoder = new BatchDecoder(model);
        decoder.Admit(rows);
        var stats = decoder.Statistics;
        Assert.Equal(20, stats.Rows);
        Assert.Equal(16, stats.Hits);
        Assert.Equal(0.8, stats.HitRate, 6);
        Assert.Equal(rows.Sum(r => (long)r.Prompt.Length), stats.PromptTokens);
        Assert.Equal(rows.Where((_, i) => i % 5 == 0).Sum(r => (long)r.Prompt.Length), stats.PrefilledTokens);

        // A later join of the same prompts is served from the cache: nothing is prefilled.
        decoder.Admit(requests.Take(5).Select(r => BatchDecoder.Prepare(model, r with { Seed = r.Seed + 1 })).ToList());
        Assert.Equal(25, stats.Rows);
        Assert.Equal(21, stats.Hits);
        Assert.Equal(stats.PrefilledTokens, rows.Where((_, i) => i % 5 == 0).Sum(r => (long)r.Prompt.Length));
    }

    [Fact]
    public void Decoder_SharingOff_PrefillsEveryRow()
    {
        using var model = TestSupport.TinyModel();
        var rows = Votes(prompts: 2, votes: 3, temperature: 1.0).Select(r => BatchDecoder.Prepare(model, r)).ToList();
        using var decoder = new BatchDecoder(model, prefixSharing: false);
        decoder.Admit(rows);
        Assert.Equal(0, decoder.Statistics.Hits);
        Assert.Equal(decoder.Statistics.PromptTokens, decoder.Statistics.PrefilledTokens);
    }

    [Fact]
    public async Task Service_VotesFromConcurrentCallers_MatchWithoutSharingAndCountHits()
    {
        using var model = TestSupport.TinyModel();
        var requests = Votes(prompts: 6, votes: 5, temperature: 1.0);
        var expected = BatchGenerator.Generate(model, requests, prefixSharing: false);
        await using var service = new GenerationService(model, new GenerationServiceOptions { MaxBatchSize = 8, Threads = 1 });
        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => service.GenerateAsync(r))));
        Assert.Equal(expected.Select(r => r.TokenIds), results.Select(r => r.TokenIds));
        Assert.Equal(30, service.PrefixSharing.Rows);
        // Six distinct prompts: whatever the joins were, each was prefilled once (the cache holds them all).
        Assert.Equal(24, service.PrefixSharing.Hits);
    }

    [Fact]
    public void PrefixCache_OverItsTokenBudget_EvictsLeastRecentlyUsed()
    {
        using var cache = new PrefixCache(capacityTokens: 10);
        cache.Add(Entry(4, 1));
        cache.Add(Entry(4, 2));
        Assert.NotNull(cache.Find(Prompt(4, 1))); // 1 is now the more recent
        cache.Add(Entry(4, 3));                    // 12 > 10: the least recently used (2) leaves
        Assert.Null(cache.Find(Prompt(4, 2)));
        Assert.NotNull(cache.Find(Prompt(4, 1)));
        Assert.NotNull(cache.Find(Prompt(4, 3)));
        Assert.Equal(8, cache.Tokens);
        cache.Add(Entry(11, 4));                   // larger than the whole budget: not kept, nothing evicted
        Assert.Null(cache.Find(Prompt(11, 4)));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void PrefixCache_EntryEvictedWhileLeased_FreedByItsLastUser()
    {
        using var cache = new PrefixCache(capacityTokens: 4);
        cache.Add(Entry(4, 1));
        var leased = cache.Find(Prompt(4, 1))!;
        cache.Add(Entry(4, 2)); // evicts 1, which another worker is still copying from
        Assert.Null(cache.Find(Prompt(4, 1)));
        Assert.Equal(4, leased.Keys[0].shape[2]);
        cache.Release(leased);
        Assert.Throws<InvalidOperationException>(() => leased.Keys[0].shape);
    }

    [Fact]
    public void Options_NegativePrefixCache_Refused()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new GenerationServiceOptions { PrefixCacheTokens = -1 }.Validated());
        Assert.Contains("prefix_cache_tokens", e.Message);
    }

    private static int[] Prompt(int length, int id) => Enumerable.Range(0, length).Select(i => id * 100 + i).ToArray();

    private static PrefixCache.Entry Entry(int length, int id) =>
        new(Prompt(length, id), [zeros(1, 1, length, 2)], [zeros(1, 1, length, 2)], zeros(3));
}

public class DecodeStepTests
{
    [Fact]
    public void Model_Created_DecodesWithSharedProjectionBuffers()
    {
        using var model = TestSupport.TinyModel();
        Assert.True(model.Network.SharesProjectionWeights);
    }

    [Fact]
    public void SharedBuffers_ParametersReplacedByTo_DecodingStillEqualsFullRecompute()
    {
        // Module.to onto another dtype (or a GPU) replaces the parameter objects: the shared buffers no longer hold
        // them, which must be detected, and each projection computed on its own.
        using var model = TestSupport.TinyModel();
        model.Network.to(ScalarType.Float64);
        Assert.False(model.Network.SharesProjectionWeights);
        var request = GenerationRequest.FromUser("Write 3 letters k") with { Temperature = 0, MaxNewTokens = 8, StopAtEndOfTurn = false };
        var result = BatchGenerator.Generate(model, [request])[0];
        // MoveTo lays the moved parameters out in shared buffers again, with the same results.
        model.Network.MoveTo(model.Device);
        Assert.True(model.Network.SharesProjectionWeights);
        Assert.Equal(result.TokenIds, BatchGenerator.Generate(model, [request])[0].TokenIds);
        var tokens = model.Template.Encode(request.Prompt).Tokens.Select(t => (long)t).ToList();
        using (no_grad())
        {
            for (var i = 0; i < 8; i++)
            {
                using var scope = NewDisposeScope();
                var next = model.Network.Forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].argmax().item<long>();
                Assert.Equal((int)next, result.TokenIds[i]);
                tokens.Add(next);
            }
        }
    }

    [Fact]
    public void SharedBuffers_WeightChangedInPlace_InferenceSeesIt()
    {
        // The q/k/v and gate/up parameters are views of one buffer each: an optimizer's or a loader's in-place write
        // must reach the buffer that inference multiplies by, or generation would use stale weights. Training with
        // gradients concatenates the parameters themselves, so it is the independent side of the comparison.
        using var model = TestSupport.TinyModel();
        using var ids = tensor(model.Template.Encode(GenerationRequest.FromUser("abc").Prompt).Tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        Tensor before;
        using (no_grad())
        {
            before = model.Network.Forward(ids);
            using var three = 3.0.ToScalar();
            foreach (var (_, p) in model.Network.Weights().Where(w => w.Key.Contains("proj", StringComparison.Ordinal)))
            {
                p.mul_(three);
            }
        }
        model.Network.eval();
        Tensor inference;
        using (no_grad())
        {
            inference = model.Network.Forward(ids);
        }
        model.Network.train();
        using var training = model.Network.Forward(ids).detach();
        Assert.True(model.Network.SharesProjectionWeights);
        Assert.True(inference.allclose(training, rtol: 1e-4, atol: 1e-5));
        Assert.False(inference.allclose(before, rtol: 1e-2, atol: 1e-3));
        before.Dispose();
        inference.Dispose();
    }

    [Theory]
    [InlineData(4, 0)] // multi-head
    [InlineData(4, 2)] // grouped-query: decoding stacks each group's queries instead of repeating the cache
    [InlineData(4, 1)] // multi-query
    public void Decode_Greedy_EqualsFullRecomputeInABatchOfDifferentLengths(int heads, int kvHeads)
    {
        using var model = TestSupport.TinyModel(heads: heads, kvHeads: kvHeads);
        var prompts = new[] { "a", "Write 3 letters k", "zz top" };
        var results = BatchGenerator.Generate(model,
            prompts.Select(p => GenerationRequest.FromUser(p) with { Temperature = 0, MaxNewTokens = 10, StopAtEndOfTurn = false }).ToList());
        for (var i = 0; i < prompts.Length; i++)
        {
            var tokens = model.Template.Encode(GenerationRequest.FromUser(prompts[i]).Prompt).Tokens.Select(t => (long)t).ToList();
            var expected = new List<int>();
            using (no_grad())
            {
                for (var s = 0; s < 10; s++)
                {
                    using var scope = NewDisposeScope();
                    var next = model.Network.Forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].argmax().item<long>();
                    expected.Add((int)next);
                    tokens.Add(next);
                }
            }
            Assert.Equal(expected, results[i].TokenIds);
        }
    }
}
