using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

public class GenerationTests
{
    private static GenerationRequest Request(string text, long seed, double temperature = 1.0, int max = 24) =>
        GenerationRequest.FromUser(text) with { Seed = seed, Temperature = temperature, MaxNewTokens = max, StopAtEndOfTurn = false };

    [Fact]
    public void Generate_GreedyWithKvCache_EqualsGreedyFullRecompute()
    {
        using var model = TestSupport.TinyModel();
        var request = Request("Write 3 letters k", 0, temperature: 0, max: 20);
        var result = BatchGenerator.Generate(model, [request])[0];
        var tokens = model.Template.Encode(request.Prompt).Tokens.Select(t => (long)t).ToList();
        var expected = new List<int>();
        using (no_grad())
        {
            for (var i = 0; i < 20; i++)
            {
                using var scope = NewDisposeScope();
                var next = model.Network.Forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].argmax().item<long>();
                expected.Add((int)next);
                tokens.Add(next);
            }
        }
        Assert.Equal(expected, result.TokenIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void Generate_ManySteps_RotaryTablesBuiltOnceNotPerStep()
    {
        // TorchSharp's Device has no equality, so a `tensor.device != device` check was always true and every forward
        // rebuilt the tables, doubling them up to max_position_embeddings (2,048 rows here; 128K for Llama-3.x).
        using var model = TestSupport.TinyModel();
        BatchGenerator.Generate(model, [Request("Write 3 letters k", 0, temperature: 0, max: 30)]);
        Assert.Equal(256, model.Network.RotaryTableRows);
        Assert.True(model.Config.MaxPositionEmbeddings > 256);
    }

    [Fact]
    public void Generate_ThenTrainingForward_ReadsTablesMadeInInferenceMode()
    {
        // Decoding runs in inference mode and makes the model's rotary tables there; a training forward and backward
        // afterwards must still work (an inference tensor may be read outside inference mode, never saved or written).
        using var model = TestSupport.TinyModel();
        BatchGenerator.Generate(model, [Request("Write 3 letters k", 0, temperature: 0, max: 4)]);
        model.Network.train();
        using var scope = NewDisposeScope();
        var ids = tensor(model.Template.Encode(GenerationRequest.FromUser("Write 3 letters k").Prompt).Tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        var loss = model.Network.Forward(ids).logsumexp(-1).mean();
        loss.backward();
        var grad = model.Network.Weights()["model.layers.0.self_attn.q_proj.weight"].grad;
        Assert.NotNull(grad);
        Assert.True(grad.abs().sum().item<float>() > 0);
        model.Network.eval();
    }

    [Fact]
    public void Generate_SameSeedDifferentNeighbours_SameOutput()
    {
        using var model = TestSupport.TinyModel();
        var target = Request("Write 5 letters z", seed: 42);
        var alone = BatchGenerator.Generate(model, [target])[0];
        var crowd = BatchGenerator.Generate(model,
            [Request("hello there, a much longer prompt than the others", 1), target, Request("x", 2), Request("Write 9 letters b", 3)])[1];
        var otherSeed = BatchGenerator.Generate(model, [target with { Seed = 43 }])[0];
        Assert.Equal(alone.TokenIds, crowd.TokenIds);
        Assert.NotEqual(alone.TokenIds, otherSeed.TokenIds);
    }

    [Fact]
    public void Generate_RowsFinishingAtDifferentStepsAndJoiningLate_EachMatchesItsRunAlone()
    {
        // Twenty requests through a batch of eight: finished rows linger until a quarter of the batch is done,
        // later requests join in groups, and the cache is re-laid out around them; no row may notice.
        using var model = TestSupport.TinyModel();
        var requests = Enumerable.Range(0, 20)
            .Select(i => Request($"prompt {i} {new string('q', i % 7)}", seed: 100 + i, temperature: i % 3 == 0 ? 0 : 1.0, max: 3 + i * 5 % 22))
            .ToList();
        var together = BatchGenerator.Generate(model, requests, maxBatchSize: 8);
        for (var i = 0; i < requests.Count; i++)
        {
            var alone = BatchGenerator.Generate(model, [requests[i]])[0];
            Assert.Equal(alone.TokenIds, together[i].TokenIds);
            Assert.Equal(requests[i].MaxNewTokens, together[i].TokenIds.Count);
        }
    }

    [Theory]
    [InlineData(0, 100, 64, 64)]  // idle: fill the batch at once
    [InlineData(60, 100, 64, 0)]  // room for 4 while 100 wait: wait for a group of 8
    [InlineData(56, 100, 64, 8)]  // room for 8: admit the group
    [InlineData(40, 100, 64, 24)] // more room than a group: admit all that fits
    [InlineData(62, 2, 64, 2)]    // every waiting request fits: no reason to wait
    [InlineData(63, 5, 64, 0)]    // one free row, five waiting: wait
    [InlineData(64, 5, 64, 0)]    // full
    [InlineData(3, 0, 64, 0)]     // nothing waiting
    [InlineData(0, 3, 1, 1)]      // a batch of one admits one at a time
    public void ToAdmit_RoomAndQueue_AdmitsInGroupsUnlessIdleOrTheQueueFits(int live, int waiting, int maxBatch, int expected) =>
        Assert.Equal(expected, BatchDecoder.ToAdmit(live, waiting, maxBatch));

    [Fact]
    public void Generate_TinyTopP_EqualsGreedy()
    {
        using var model = TestSupport.TinyModel();
        var greedy = BatchGenerator.Generate(model, [Request("abc", 0, temperature: 0)])[0];
        var nucleus = BatchGenerator.Generate(model, [Request("abc", 7, temperature: 1.5) with { TopP = 1e-6 }])[0];
        Assert.Equal(greedy.TokenIds, nucleus.TokenIds);
    }

    [Fact]
    public void Generate_StopString_CutsTextBeforeIt()
    {
        using var model = TestSupport.TinyModel();
        var free = BatchGenerator.Generate(model, [Request("q", 5, max: 40)])[0];
        var stop = free.Text.Length > 6 ? free.Text.Substring(3, 2) : free.Text;
        var cut = BatchGenerator.Generate(model, [Request("q", 5, max: 40) with { StopStrings = [stop] }])[0];
        Assert.Equal(FinishReason.StopString, cut.FinishReason);
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], cut.Text);
    }

    [Fact]
    public void Request_BadValues_ThrowNamingEachOption()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => (GenerationRequest.FromUser("a") with { TopP = 0, MaxNewTokens = 0 }).Validated());
        Assert.Contains("top_p", e.Message);
        Assert.Contains("max_new_tokens", e.Message);
    }

    [Fact]
    public void Generate_FromTokens_ContinuesTheIdsAsGiven()
    {
        using var model = TestSupport.TinyModel();
        var chat = Request("Write 3 letters k", seed: 7, max: 12);
        var rendered = model.Template.Encode(chat.Prompt).Tokens;
        var raw = model.Tokenizer.Encode("Write 3 letters k").ToArray();
        var fromTokens = GenerationRequest.FromTokens(rendered) with { Seed = 7, MaxNewTokens = 12, StopAtEndOfTurn = false };
        var results = BatchGenerator.Generate(model, [chat, fromTokens, fromTokens with { PromptTokenIds = raw }]);

        Assert.Equal(results[0].TokenIds, results[1].TokenIds);
        Assert.Equal(rendered.Length, results[1].PromptTokens);
        // The raw ids reach the model without the template's role tokens.
        Assert.Equal(raw.Length, results[2].PromptTokens);
    }

    [Fact]
    public void Generate_FromTokensOutsideTheVocabularyOrEmpty_Refused()
    {
        using var model = TestSupport.TinyModel();
        var outside = Assert.Throws<InvalidOptionsException>(() => BatchGenerator.Generate(model, [GenerationRequest.FromTokens([1, model.Config.VocabSize])]));
        Assert.Contains($"token id {model.Config.VocabSize}", outside.Message);
        var empty = Assert.Throws<InvalidOptionsException>(() => GenerationRequest.FromTokens([]).Validated());
        Assert.Contains("prompt token ids", empty.Message);
    }

    [Fact]
    public async Task GenerateAsync_ManyConcurrentCallers_MatchStaticBatchAndSeeds()
    {
        using var model = TestSupport.TinyModel();
        var requests = Enumerable.Range(0, 24).Select(i => Request($"prompt {i}", seed: i, max: 4 + i % 9)).ToList();
        var expected = BatchGenerator.Generate(model, requests);
        await using var service = new GenerationService(model, new GenerationServiceOptions { MaxBatchSize = 8, Threads = 1 });
        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => service.GenerateAsync(r))));
        Assert.Equal(expected.Select(r => r.TokenIds), results.Select(r => r.TokenIds));
        Assert.All(results, r => Assert.Equal("v0", r.ModelVersion));
        Assert.True(service.Statistics.Completed == 24);
    }

    [Fact]
    public async Task SwapModel_RequestsAfterSwap_UseNewVersionAndOldRetires()
    {
        using var first = TestSupport.TinyModel(seed: 1);
        using var second = TestSupport.TinyModel(seed: 2);
        second.Version = "v1";
        await using var service = new GenerationService(first, new GenerationServiceOptions { Threads = 1 });
        var before = service.GenerateAsync(Request("a", 1, max: 30));
        var retired = service.SwapModel(second);
        var after = await service.GenerateAsync(Request("a", 1, max: 30));
        Assert.Equal("v0", (await before).ModelVersion);
        Assert.Equal("v1", after.ModelVersion);
        await retired.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(second, service.CurrentModel);
    }

    [Fact]
    public async Task GenerateAsync_Cancelled_CompletesAsCancelled()
    {
        using var model = TestSupport.TinyModel();
        await using var service = new GenerationService(model, new GenerationServiceOptions { Threads = 1 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.GenerateAsync(Request("a", 1, max: 500), cts.Token));
        var ok = await service.GenerateAsync(Request("a", 1, max: 3));
        Assert.Equal(3, ok.TokenIds.Count);
    }
}

public class GenerationSlotTests
{
    [Fact]
    public async Task GenerateAsync_TwoSlotsConcurrently_EachMatchesItsOwnModel()
    {
        using var actor = TestSupport.TinyModel(seed: 11);
        using var refiner = TestSupport.TinyModel(seed: 12);
        actor.Version = "actor-v0";
        refiner.Version = "refiner-v0";
        var requests = Enumerable.Range(0, 10).Select(i => GenerationRequest.FromUser($"p{i}") with { Seed = i, MaxNewTokens = 5 + i, StopAtEndOfTurn = false }).ToList();
        var expectedActor = BatchGenerator.Generate(actor, requests);
        var expectedRefiner = BatchGenerator.Generate(refiner, requests);
        await using var service = new GenerationService(new Dictionary<string, LanguageModel> { ["actor"] = actor, ["refiner"] = refiner }, new GenerationServiceOptions { Threads = 1 });
        var a = requests.Select(r => Task.Run(() => service.GenerateAsync("actor", r)));
        var b = requests.Select(r => Task.Run(() => service.GenerateAsync("refiner", r)));
        var results = await Task.WhenAll(a.Concat(b));
        Assert.Equal(expectedActor.Concat(expectedRefiner).Select(r => r.TokenIds), results.Select(r => r.TokenIds));
        Assert.Equal(10, results.Count(r => r.ModelVersion == "refiner-v0"));
        await Assert.ThrowsAsync<ArgumentException>(() => service.GenerateAsync("judge", requests[0]));
    }
}
