using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

public class ModelTests
{
    [Fact]
    public void NamedParameters_UntiedGqaModel_UseHfLlamaNames()
    {
        using var net = new LlamaForCausalLM(LlamaConfig.Small(264, 64, 2, 4, 2) with { TieWordEmbeddings = false });
        var names = net.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", names);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", names);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.Equal(new long[] { 32, 64 }, net.state_dict()["model.layers.0.self_attn.v_proj.weight"].shape);
    }

    [Fact]
    public void Config_HeadsNotDividing_ThrowsNamingOption()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => LlamaConfig.Small(264, 64, 2, 4, 3).Validated());
        Assert.Contains("num_key_value_heads", e.Message);
    }

    [Fact]
    public void Forward_IncrementalWithKvCache_EqualsFullRecompute()
    {
        using var model = TestSupport.TinyModel(kvHeads: 2);
        using var noGrad = no_grad();
        var ids = tensor(Enumerable.Range(0, 14).Select(i => (long)(i * 17 % 250)).ToArray(), [1, 14]);
        using var full = model.Network.Forward(ids);
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        var parts = new List<Tensor> { model.Network.Forward(ids.narrow(1, 0, 5), cache: cache) };
        for (var t = 5; t < 14; t++)
        {
            parts.Add(model.Network.Forward(ids.narrow(1, t, 1), cache: cache));
        }
        using var incremental = cat(parts, 1);
        Assert.True(full.allclose(incremental, rtol: 1e-4, atol: 1e-5), $"max diff {(full - incremental).abs().max().item<float>()}");
    }

    [Fact]
    public void Forward_LeftPaddedBatch_MatchesEachSequenceAlone()
    {
        using var model = TestSupport.TinyModel();
        using var noGrad = no_grad();
        long[] a = [5, 9, 40, 41, 42, 43, 44], b = [7, 8, 9];
        using var aloneA = model.Network.Forward(tensor(a, [1, a.Length])).select(1, -1);
        using var aloneB = model.Network.Forward(tensor(b, [1, b.Length])).select(1, -1);
        long[] padded = [.. a, 0, 0, 0, 0, .. b];
        long[] mask = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1];
        using var batch = model.Network.Forward(tensor(padded, [2, 7]), tensor(mask, [2, 7]), lastOnly: true).squeeze(1);
        Assert.True(batch[0].allclose(aloneA[0], atol: 1e-5));
        Assert.True(batch[1].allclose(aloneB[0], atol: 1e-5));
    }
}
