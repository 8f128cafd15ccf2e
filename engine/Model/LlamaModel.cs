using SparOrleans.Core.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>RMSNorm (no bias, no mean subtraction); libtorch 2.10 has no module for it in TorchSharp.</summary>
internal sealed class RmsNorm : nn.Module
{
    private readonly Parameter _weight;
    private readonly double _eps;

    public RmsNorm(int size, double eps) : base("RmsNorm")
    {
        _eps = eps;
        _weight = new Parameter(ones(size));
        register_parameter("weight", _weight);
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var variance = x.pow(2).mean([-1], keepdim: true);
        return (x * rsqrt(variance + _eps) * _weight).MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query self-attention with rotary embeddings, computed by scaled_dot_product_attention.</summary>
internal sealed class LlamaAttention : nn.Module
{
    private readonly Linear _q, _k, _v, _o;
    private readonly int _heads, _kvHeads, _headDim;

    public LlamaAttention(LlamaConfig c) : base("LlamaAttention")
    {
        _heads = c.NumAttentionHeads;
        _kvHeads = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        _q = nn.Linear(c.HiddenSize, _heads * _headDim, hasBias: false);
        _k = nn.Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: false);
        _v = nn.Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: false);
        _o = nn.Linear(_heads * _headDim, c.HiddenSize, hasBias: false);
        register_module("q_proj", _q);
        register_module("k_proj", _k);
        register_module("v_proj", _v);
        register_module("o_proj", _o);
    }

    /// <param name="mask">Boolean [B,1,T,S], true where a query may attend; null means plain causal.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        Tensor q, k, v;
        if (is_grad_enabled())
        {
            // Training: one wide matmul beats three narrow ones; concatenating the weights is cheap next to it.
            var qkv = nn.functional.linear(x, cat([_q.weight!, _k.weight!, _v.weight!], 0));
            var (qWidth, kvWidth) = (_heads * _headDim, _kvHeads * _headDim);
            q = qkv.narrow(-1, 0, qWidth).reshape(b, t, _heads, _headDim).transpose(1, 2);
            k = qkv.narrow(-1, qWidth, kvWidth).reshape(b, t, _kvHeads, _headDim).transpose(1, 2);
            v = qkv.narrow(-1, qWidth + kvWidth, kvWidth).reshape(b, t, _kvHeads, _headDim).transpose(1, 2);
        }
        else
        {
            q = _q.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);
            k = _k.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
            v = _v.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        }
        q = Rotary.Apply(q, cos, sin);
        k = Rotary.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Append(layer, k, v);
        }
        if (_kvHeads != _heads)
        {
            // SDPA in TorchSharp 0.107 has no enable_gqa flag: share each key/value head across its query group.
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, mask, is_casual: mask is null);
        return _o.forward(attended.transpose(1, 2).reshape(b, t, _heads * _headDim));
    }
}

internal sealed class LlamaMlp : nn.Module
{
    private readonly Linear _gate, _up, _down;

    public LlamaMlp(LlamaConfig c) : base("LlamaMlp")
    {
        _gate = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false);
        _up = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false);
        _down = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: false);
        register_module("gate_proj", _gate);
        register_module("up_proj", _up);
        register_module("down_proj", _down);
    }

    public Tensor Forward(Tensor x)
    {
        if (!is_grad_enabled())
        {
            return _down.forward(nn.functional.silu(_gate.forward(x)) * _up.forward(x));
        }
        // Training: gate and up projections as one matmul (see LlamaAttention).
        var both = nn.functional.linear(x, cat([_gate.weight!, _up.weight!], 0));
        var width = both.shape[^1] / 2;
        return _down.forward(nn.functional.silu(both.narrow(-1, 0, width)) * both.narrow(-1, width, width));
    }
}

internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention _attention;
    private readonly LlamaMlp _mlp;
    private readonly RmsNorm _inputNorm, _postNorm;

    public LlamaDecoderLayer(LlamaConfig c) : base("LlamaDecoderLayer")
    {
        _attention = new LlamaAttention(c);
        _mlp = new LlamaMlp(c);
        _inputNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        _postNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        register_module("self_attn", _attention);
        register_module("mlp", _mlp);
        register_module("input_layernorm", _inputNorm);
        register_module("post_attention_layernorm", _postNorm);
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        var h = x + _attention.Forward(_inputNorm.Forward(x), cos, sin, mask, cache, layer);
        return h + _mlp.Forward(_postNorm.Forward(h));
    }
}

/// <summary>The "model." part of LlamaForCausalLM: embeddings, layers, final norm.</summary>
internal sealed class LlamaBody : nn.Module
{
    public readonly Embedding EmbedTokens;
    public readonly ModuleList<LlamaDecoderLayer> Layers;
    public readonly RmsNorm Norm;

    public LlamaBody(LlamaConfig c) : base("LlamaModel")
    {
        EmbedTokens = nn.Embedding(c.VocabSize, c.HiddenSize);
        Layers = nn.ModuleList(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(c)).ToArray());
        Norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", Layers);
        register_module("norm", Norm);
    }
}

/// <summary>Rotary position embeddings in HF's rotate-half layout, computed from explicit positions.</summary>
internal static class Rotary
{
    /// <summary>cos and sin of shape [B,1,T,headDim] for positions [B,T].</summary>
    public static (Tensor Cos, Tensor Sin) Tables(Tensor positions, Tensor invFreq)
    {
        var angles = positions.to(ScalarType.Float32).unsqueeze(-1) * invFreq; // [B,T,hd/2]
        var emb = cat([angles, angles], -1).unsqueeze(1);
        return (emb.cos(), emb.sin());
    }

    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return x * cos + cat([-x2, x1], -1) * sin;
    }
}

/// <summary>
/// A Llama-style decoder with HF parameter names (<c>model.layers.N.self_attn.q_proj.weight</c>, ...), so real
/// checkpoints map one to one. Tied embeddings reuse <c>model.embed_tokens.weight</c> as the head.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module
{
    private readonly LlamaBody _body;
    private readonly Linear? _head;
    private Tensor? _invFreq;

    public LlamaConfig Config { get; }

    public LlamaForCausalLM(LlamaConfig config) : base("LlamaForCausalLM")
    {
        Native.TorchRuntime.EnsureNativeLibraryPatched();
        Config = config.Validated();
        _body = new LlamaBody(config);
        register_module("model", _body);
        if (!config.TieWordEmbeddings)
        {
            _head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", _head);
        }
        InitializeWeights();
    }

    /// <summary>The device the parameters live on.</summary>
    public Device Device => _body.EmbedTokens.weight!.device;

    // HF Llama init: normal(0, 0.02) for every matrix, ones for norms.
    private void InitializeWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (!name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                nn.init.normal_(p, 0, 0.02);
            }
        }
    }

    /// <summary>
    /// Logits [B,T,V] for token ids [B,T]. Without <paramref name="attentionMask"/> the batch is causal from
    /// position 0 (right padding is harmless then: padded positions come after every real one). With it,
    /// the mask [B,S] covers cached plus new tokens (1 = real, 0 = left padding), positions count real tokens
    /// only, and attention uses one boolean mask (causal AND padding). <paramref name="cache"/> is extended in place.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (inputIds.shape[0], inputIds.shape[1]);
        var device = inputIds.device;
        _invFreq ??= InverseFrequencies(device);
        if (_invFreq.device != device)
        {
            _invFreq.Dispose();
            _invFreq = InverseFrequencies(device);
        }
        Tensor positions;
        Tensor? mask = null;
        var past = cache?.Length ?? 0;
        if (attentionMask is null)
        {
            positions = arange(past, past + t, ScalarType.Int64, device).unsqueeze(0).expand(b, t);
            if (past > 0)
            {
                mask = ones(t, past + t, ScalarType.Bool, device).tril(past).view(1, 1, t, past + t);
            }
        }
        else
        {
            var s = attentionMask.shape[1];
            var valid = attentionMask.to(ScalarType.Bool);
            positions = (valid.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).narrow(1, s - t, t);
            var causal = ones(t, s, ScalarType.Bool, device).tril(s - t);
            mask = causal.view(1, 1, t, s).logical_and(valid.view(b, 1, 1, s));
        }
        var (cos, sin) = Rotary.Tables(positions, _invFreq);
        var h = _body.EmbedTokens.forward(inputIds);
        for (var i = 0; i < _body.Layers.Count; i++)
        {
            h = _body.Layers[i].Forward(h, cos, sin, mask, cache, i);
        }
        if (lastOnly)
        {
            h = h.narrow(1, t - 1, 1);
        }
        h = _body.Norm.Forward(h);
        var logits = _head is null ? nn.functional.linear(h, _body.EmbedTokens.weight!) : _head.forward(h);
        cache?.Commit(t);
        return logits.MoveToOuterDisposeScope();
    }

    private Tensor InverseFrequencies(Device device)
    {
        var hd = Config.HeadDim;
        var exponents = arange(0, hd, 2, ScalarType.Float64) / hd;
        var inv = (1.0 / pow(Config.RopeTheta, exponents)).to(ScalarType.Float32).to(device);
        return inv.DetachFromDisposeScope();
    }

    /// <summary>Parameters grouped for AdamW: matrices get weight decay; norms and embeddings do not.</summary>
    public (List<Parameter> Decay, List<Parameter> NoDecay) ParameterGroupsForDecay()
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in named_parameters())
        {
            (name.Contains("norm", StringComparison.Ordinal) || name.Contains("embed_tokens", StringComparison.Ordinal) ? noDecay : decay).Add(p);
        }
        return (decay, noDecay);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _invFreq?.Dispose();
        }
        base.Dispose(disposing);
    }
}
