using SparOrleans.Engine.Benchmarks;
using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Tests;

public class MemoryAccountingTests
{
    [Fact]
    public void Llama32_1B_ParameterCount_IsExact()
    {
        // HF's Llama-3.2-1B: embed 128256·2048 (tied head) + 16 × (q 2048² + k,v 2·2048·512 + o 2048² + 3·2048·8192 + 2·2048) + 2048.
        Assert.Equal(1_235_814_400L, MemoryAccounting.Parameters(MemoryAccounting.Llama32_1B()));
        Assert.Equal(60_821_504L, MemoryAccounting.LayerParameters(MemoryAccounting.Llama32_1B()));
    }

    [Fact]
    public void Parameters_MatchTheNetwork()
    {
        var config = MemoryAccounting.Llama32_1B() with { VocabSize = 300, HiddenSize = 64, IntermediateSize = 160, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2 };
        foreach (var c in new[] { config, config with { TieWordEmbeddings = false }, config with { ModelType = "qwen2", AttentionBias = true }, config with { ModelType = "qwen3", QkNorm = true, ExplicitHeadDim = 32 } })
        {
            using var network = new LlamaForCausalLM(c);
            Assert.Equal(network.Weights().Values.Sum(p => p.numel()), MemoryAccounting.Parameters(c));
        }
    }

    [Fact]
    public void Llama32_1B_LoraR16AllLinear_ByHand()
    {
        // Per layer: q,o 16·(2048+2048) each, k,v 16·(2048+512) each, gate/up/down 16·(2048+8192) each = 704,512.
        var c = MemoryAccounting.Llama32_1B();
        Assert.Equal(16 * 704_512L, MemoryAccounting.LoraParameters(c, 16, LoraOptions.AllLinear));
        Assert.Equal(16 * 16L * (2048 + 2048) * 2, MemoryAccounting.LoraParameters(c, 16, ["q_proj", "o_proj"]));
        var m = MemoryAccounting.Lora(c, 16, LoraOptions.AllLinear, 2, sequences: 8, length: 256, checkpointing: true);
        Assert.Equal(2 * 1_235_814_400L, m.WeightBytes);
        Assert.Equal(4 * 11_272_192L, m.TrainableWeightBytes);
        Assert.Equal(4 * 11_272_192L, m.GradientBytes);
        Assert.Equal(8 * 11_272_192L, m.OptimizerBytes);
        // Checkpointed: each of 16 layers keeps its input, one layer (6·2048 + 2·512 + 4·8192 = 46,080 elements per
        // token) is recomputed, all in bf16; the head holds three fp32 copies of the logits.
        long tokens = 8 * 256;
        Assert.Equal(tokens * (16 * 2048 + 46_080) * 2 + 3 * tokens * 128_256 * 4, m.ActivationBytes);
    }

    [Fact]
    public void FullTraining_BytesPerParameter_AreTheEngines()
    {
        var c = MemoryAccounting.Llama32_3B();
        var p = MemoryAccounting.Parameters(c);
        Assert.Equal(3_212_749_824L, p);
        var bf16 = MemoryAccounting.Full(c, 2, 8, 1024, checkpointing: true);
        Assert.Equal(8 * p, bf16.WeightBytes + bf16.GradientBytes + bf16.OptimizerBytes);
        var fp32 = MemoryAccounting.Full(c, 4, 8, 1024, checkpointing: false);
        Assert.Equal(16 * p, fp32.WeightBytes + fp32.GradientBytes + fp32.OptimizerBytes);
        Assert.Equal(8_030_261_248L, MemoryAccounting.Parameters(MemoryAccounting.Llama3_8B()));
    }
}
