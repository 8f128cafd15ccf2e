using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

/// <summary>The CPU decode-attention kernel against libtorch's scaled_dot_product_attention with the padding mask.</summary>
public class DecodeAttentionTests
{
    [Theory]
    [InlineData(1, 4, 4, 64, 9, 1)]       // batch 1, multi-head
    [InlineData(6, 4, 4, 64, 70, 1)]      // padded rows
    [InlineData(5, 8, 2, 32, 40, 1)]      // grouped-query: four queries per key/value head
    [InlineData(3, 4, 1, 16, 33, 1)]      // multi-query
    [InlineData(64, 4, 4, 64, 90, 2)]     // called directly it runs whatever torch's threads
    [InlineData(2, 2, 2, 24, 3000, 1)]    // a row longer than the stack buffer
    public void Attend_PaddedCacheView_EqualsSdpaWithItsMask(int batch, int heads, int kvHeads, int headDim, int columns, int threads)
    {
        TorchRuntime.Configure(threads: threads);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var generator = new TorchSharp.torch.Generator(7);
        // A cache buffer with room beyond the used columns, viewed as a step does (strided in dim 2).
        var keys = randn([batch, kvHeads, columns + 11, headDim], generator: generator).narrow(2, 0, columns);
        var values = randn([batch, kvHeads, columns + 11, headDim], generator: generator).narrow(2, 0, columns);
        // Queries as a step has them: a transposed view of the fused projection's output.
        var q = randn([batch, 1, heads + 2 * kvHeads, headDim], generator: generator).narrow(2, 0, heads).transpose(1, 2);
        var starts = Enumerable.Range(0, batch).Select(r => (long)(r * 7 % Math.Max(1, columns - 1))).ToArray();
        var mask = arange(columns, ScalarType.Int64).unsqueeze(0).ge(tensor(starts, [batch, 1])).view(batch, 1, 1, columns);
        var groups = heads / kvHeads;
        var expected = nn.functional.scaled_dot_product_attention(
            q.reshape(batch, kvHeads, groups, headDim), keys, values, mask).reshape(batch, 1, heads * headDim);

        Assert.True(DecodeAttention.Fits(q, keys, values));
        var actual = DecodeAttention.Attend(q, keys, values, starts);

        Assert.Equal(expected.shape, actual.shape);
        var error = (actual - expected).abs().max().item<float>();
        Assert.True(error < 1e-5f, $"max |kernel - SDPA| = {error}");
        TorchRuntime.Configure(threads: 1);
    }

    [Fact]
    public void Attend_NoPadding_EqualsSdpaWithoutMask()
    {
        TorchRuntime.Configure(threads: 1);
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(3);
        var (keys, values) = (randn([4, 2, 17, 8], generator: generator), randn([4, 2, 17, 8], generator: generator));
        var q = randn([4, 2, 1, 8], generator: generator);

        var error = (DecodeAttention.Attend(q, keys, values, null)
            - nn.functional.scaled_dot_product_attention(q, keys, values).reshape(4, 1, 16)).abs().max().item<float>();

        Assert.True(error < 1e-5f, $"max |kernel - SDPA| = {error}");
    }

    [Fact]
    public void Serves_OnlyFp32SingleQueriesOnOneTorchThread()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Configure(threads: 2);
        Assert.False(DecodeAttention.Serves(zeros(1, 2, 1, 8), zeros(1, 2, 5, 8), zeros(1, 2, 5, 8)));
        TorchRuntime.Configure(threads: 1);
        var (k, v) = (zeros(1, 2, 5, 8), zeros(1, 2, 5, 8));
        Assert.False(DecodeAttention.Serves(zeros(1, 2, 3, 8), k, v));
        Assert.False(DecodeAttention.Serves(zeros(1, 2, 1, 8, ScalarType.BFloat16), k.bfloat16(), v.bfloat16()));
        Assert.False(DecodeAttention.Serves(zeros(1, 2, 1, 16).slice(3, 0, 16, 2), k, v));
        Assert.True(DecodeAttention.Serves(zeros(1, 2, 1, 8), k, v));
    }

    [Theory]
    [InlineData(4)]   // multi-head
    [InlineData(2)]   // grouped-query
    public void Generate_PaddedBatch_SameGreedyTokensWithKernelAndSdpa(int kvHeads)
    {
        using var model = TestSupport.TinyModel(heads: 4, kvHeads: kvHeads, seed: 5);
        var requests = new[] { "a", "write three words", "count to ten, slowly, and then stop", "xy" }
            .Select(p => GenerationRequest.FromUser(p) with { MaxNewTokens = 24, StopAtEndOfTurn = false, Temperature = 0 }).ToList();

        var withKernel = BatchGenerator.Generate(model, requests, maxBatchSize: 4);
        DecodeAttention.Enabled = false;
        try
        {
            var withSdpa = BatchGenerator.Generate(model, requests, maxBatchSize: 4);
            Assert.Equal(withSdpa.Select(r => r.TokenIds), withKernel.Select(r => r.TokenIds));
        }
        finally
        {
            DecodeAttention.Enabled = true;
        }
    }
}
