using SparOrleans.Core.Options;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// RMSNorm as HF computes it: the statistics in fp32 whatever the model's dtype, the weight applied after casting
/// back (libtorch 2.10 has no module for it in TorchSharp).
/// </summary>
internal sealed class RmsNorm : nn.Module
{
    // Named as registered: Module.to(dtype) replaces a parameter and updates only the field of the same name.
#pragma warning disable IDE1006
    private Parameter weight;
#pragma warning restore IDE1006
    // Held for the module's life: an implicit double->Scalar per call is freed only by the finalizer.
    private readonly Scalar _eps;

    public RmsNorm(int size, double eps, ScalarType dtype) : base("RmsNorm")
    {
        _eps = eps.ToScalar();
        weight = new Parameter(ones(size, dtype));
        register_parameter("weight", weight);
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var h = dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        // square(), not pow(2): no temporary Scalar handle, which CI once saw freed under a running pow (Scalar.h assert).
        var variance = h.square().mean([-1], keepdim: true);
        h = h * rsqrt(variance + _eps);
        return (weight * (dtype == ScalarType.Float32 ? h : h.to(dtype))).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _eps.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// One HF projection (<c>q_proj</c>, <c>gate_proj</c>, ...) and, once <see cref="LoraAdapters.Attach"/> has run,
/// its LoRA adapter registered under PEFT's names (<c>q_proj.lora_A.weight</c>, <c>q_proj.lora_B.weight</c>). The
/// adapter computes in fp32 whatever the base dtype, so a BF16 base trains fp32 adapters.
/// </summary>
internal sealed class AdaptedLinear(Linear linear)
{
    public Linear Linear { get; } = linear;

    public Linear? LoraA { get; private set; }

    public Linear? LoraB { get; private set; }

    public double Scaling { get; private set; }

    public double Dropout { get; private set; }

    /// <summary>Set by <see cref="LoraAdapters.Disabled"/>: the base alone answers (DPO's reference policy).</summary>
    public bool AdapterEnabled { get; set; } = true;

    public bool HasActiveAdapter => LoraA is not null && AdapterEnabled;

    public void AttachLora(int rank, double alpha, double dropout, bool rsLora)
    {
        var (inF, outF) = (Linear.weight!.shape[1], Linear.weight!.shape[0]);
        var a = nn.Linear(inF, rank, hasBias: false, dtype: ScalarType.Float32);
        var b = nn.Linear(rank, outF, hasBias: false, dtype: ScalarType.Float32);
        using (no_grad())
        {
            // PEFT's default: A as nn.Linear's Kaiming-uniform init, B zero, so an attached adapter starts as a no-op.
            nn.init.zeros_(b.weight!);
        }
        a.to(Linear.weight!.device);
        b.to(Linear.weight!.device);
        Linear.register_module("lora_A", a);
        Linear.register_module("lora_B", b);
        (LoraA, LoraB, Dropout) = (a, b, dropout);
        Scaling = rsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    public Tensor Forward(Tensor x, bool training)
    {
        var y = Linear.forward(x);
        return HasActiveAdapter ? y + Delta(x, training) : y;
    }

    /// <summary>
    /// The adapter's contribution B(A(dropout(x))) · scaling, in the dtype of <paramref name="x"/>. Dropout follows
    /// the module's training mode, not whether gradients are on: a checkpointed layer runs its forward without them.
    /// </summary>
    public Tensor Delta(Tensor x, bool training)
    {
        var h = x.dtype == ScalarType.Float32 ? x : x.to(ScalarType.Float32);
        if (Dropout > 0 && training)
        {
            h = nn.functional.dropout(h, Dropout, training: true);
        }
        var delta = LoraB!.forward(LoraA!.forward(h)) * Scaling;
        return delta.dtype == x.dtype ? delta : delta.to(x.dtype);
    }

    /// <summary>
    /// Applies several projections of the same input as one matmul, adapters added per part. The weights come from
    /// <paramref name="shared"/> when it still holds them and no base weight needs a gradient (inference, LoRA
    /// training); otherwise they are concatenated for this call (full training: gradients reach each parameter).
    /// </summary>
    public static Tensor[] Fused(Tensor x, bool training, SharedWeights? shared, params AdaptedLinear[] parts) =>
        Fused(x, training, shared, out _, parts);

    /// <summary>
    /// As <see cref="Fused(Tensor, bool, SharedWeights?, AdaptedLinear[])"/>; <paramref name="all"/> is the one
    /// matmul's output before any adapter, or null when the parts were computed one by one.
    /// </summary>
    public static Tensor[] Fused(Tensor x, bool training, SharedWeights? shared, out Tensor? all, params AdaptedLinear[] parts)
    {
        var gradients = is_grad_enabled() && parts.Any(p => p.Linear.weight!.requires_grad);
        if (shared is { Intact: true } && !gradients)
        {
            all = nn.functional.linear(x, shared.Weight, shared.Bias);
        }
        else if (shared is not null && !gradients)
        {
            // Module.to replaced the parameters, so the buffer no longer holds them: one matmul per part, as before
            // the buffer existed, rather than concatenating every weight at every decoding step.
            all = null;
            return parts.Select(p => p.Forward(x, training)).ToArray();
        }
        else
        {
            var weights = parts.Select(p => p.Linear.weight!).ToArray();
            var biases = parts[0].Linear.bias is null ? null : cat(parts.Select(p => p.Linear.bias!).ToArray(), 0);
            all = nn.functional.linear(x, cat(weights, 0), biases);
        }
        var outputs = new Tensor[parts.Length];
        long offset = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var width = parts[i].Linear.weight!.shape[0];
            outputs[i] = all.narrow(-1, offset, width);
            if (parts[i].HasActiveAdapter)
            {
                outputs[i] = outputs[i] + parts[i].Delta(x, training);
            }
            offset += width;
        }
        return outputs;
    }
}

/// <summary>
/// One buffer that several projections of the same input (q/k/v, gate/up) keep their weights in, each parameter a
/// view of its rows: a decoding step multiplies by it once instead of once per projection, with no copy per step,
/// and the parameters keep their HF names and shapes (checkpoints, LoRA and optimizers see them as before). The
/// buffer is stored transposed, [in, out] contiguous, each parameter a transposed view of its columns: linear(x, W)
/// then multiplies by a contiguous x·Wᵀ, where MKL's sgemv at a batch of one is much faster than over W's [out, in]
/// rows (a batch-1 decoding step: 22–30% less CPU, engine README's third pass). o_proj and down_proj keep the plain
/// layout: transposing them as well measured no faster. AdamW's moments of these views are made contiguous by
/// OptimizationLoop (TorchSharp saves only contiguous tensors).
/// Anything that replaces a parameter object (<c>Module.to</c> onto another device or dtype) ends the sharing,
/// which <see cref="Intact"/> detects; callers then concatenate per call as training does.
/// </summary>
internal sealed class SharedWeights : IDisposable
{
    private readonly Linear[] _parts;
    private readonly Parameter[] _weights;
    private readonly Parameter?[] _biases;
    private readonly Tensor _transposed; // [in, sum of outs], contiguous; Weight is its transposed view

    public SharedWeights(params Linear[] parts)
    {
        using var noGrad = no_grad();
        _parts = parts;
        _transposed = cat(parts.Select(p => p.weight!.t()).ToArray(), 1).DetachFromDisposeScope();
        Weight = _transposed.t().DetachFromDisposeScope();
        Bias = parts[0].bias is null ? null : cat(parts.Select(p => p.bias!).ToArray(), 0).DetachFromDisposeScope();
        _weights = new Parameter[parts.Length];
        _biases = new Parameter?[parts.Length];
        long offset = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var rows = parts[i].weight!.shape[0];
            var old = parts[i].weight!;
            _weights[i] = new Parameter(_transposed.narrow(1, offset, rows).t(), old.requires_grad);
            parts[i].weight = _weights[i];
            old.Dispose();
            if (Bias is not null)
            {
                var oldBias = parts[i].bias!;
                _biases[i] = new Parameter(Bias.narrow(0, offset, rows), oldBias.requires_grad);
                parts[i].bias = _biases[i];
                oldBias.Dispose();
            }
            offset += rows;
        }
    }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    /// <summary>Whether every part still holds the parameter made over this buffer.</summary>
    public bool Intact
    {
        get
        {
            for (var i = 0; i < _parts.Length; i++)
            {
                if (!ReferenceEquals(_parts[i].weight, _weights[i]) || !ReferenceEquals(_parts[i].bias, _biases[i]))
                {
                    return false;
                }
            }
            return true;
        }
    }

    public void Dispose()
    {
        Weight.Dispose();
        _transposed.Dispose();
        Bias?.Dispose();
    }
}

/// <summary>
/// Grouped-query self-attention with rotary embeddings, computed by scaled_dot_product_attention. Qwen2's q/k/v
/// biases and Qwen3's per-head q/k norms are switched on by the config.
/// </summary>
internal sealed class LlamaAttention : nn.Module
{
    private readonly AdaptedLinear _q, _k, _v, _o;
    private SharedWeights _qkv;
    private readonly RmsNorm? _qNorm, _kNorm;
    private readonly int _heads, _kvHeads, _headDim;

    public LlamaAttention(LlamaConfig c, ScalarType dtype) : base("LlamaAttention")
    {
        _heads = c.NumAttentionHeads;
        _kvHeads = c.NumKeyValueHeads;
        _headDim = c.HeadDim;
        var q = nn.Linear(c.HiddenSize, _heads * _headDim, hasBias: c.AttentionBias, dtype: dtype);
        var k = nn.Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: c.AttentionBias, dtype: dtype);
        var v = nn.Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: c.AttentionBias, dtype: dtype);
        var o = nn.Linear(_heads * _headDim, c.HiddenSize, hasBias: false, dtype: dtype);
        register_module("q_proj", q);
        register_module("k_proj", k);
        register_module("v_proj", v);
        register_module("o_proj", o);
        (_q, _k, _v, _o) = (new(q), new(k), new(v), new(o));
        _qkv = new SharedWeights(q, k, v);
        if (c.QkNorm)
        {
            _qNorm = new RmsNorm(_headDim, c.RmsNormEps, dtype);
            _kNorm = new RmsNorm(_headDim, c.RmsNormEps, dtype);
            register_module("q_norm", _qNorm);
            register_module("k_norm", _kNorm);
        }
    }

    public IEnumerable<(string Name, AdaptedLinear Projection)> Projections() =>
        [("q_proj", _q), ("k_proj", _k), ("v_proj", _v), ("o_proj", _o)];

    /// <summary>Whether decoding multiplies by one q/k/v buffer (false once <c>Module.to</c> replaced the parameters).</summary>
    internal bool SharesProjectionWeights => _qkv.Intact;

    internal void ShareProjectionWeights() => Reshare(ref _qkv, _q, _k, _v);

    /// <summary>Lays <paramref name="parts"/>' current parameters out in a fresh buffer when the old one no longer holds them.</summary>
    internal static void Reshare(ref SharedWeights shared, params AdaptedLinear[] parts)
    {
        if (!shared.Intact)
        {
            shared.Dispose();
            shared = new SharedWeights(parts.Select(p => p.Linear).ToArray());
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _qkv.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <param name="mask">Boolean [B,1,T,S], true where a query may attend; null means plain causal.</param>
    /// <param name="training">Training's shape (fused projections, adapter dropout), decided once per model forward.</param>
    /// <param name="rowStarts">At a decoding step, each row's first real column (null: none padded), which lets the
    /// CPU kernel (<see cref="DecodeAttention"/>) skip the padding that <paramref name="mask"/> hides.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer, bool training, IReadOnlyList<long>? rowStarts = null)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        // One wide matmul beats three narrow ones: at a decoding step each native call costs more than its FLOPs.
        var qkv = AdaptedLinear.Fused(x, training, _qkv, out var all, _q, _k, _v);
        var (q, k, v) = (qkv[0], qkv[1], qkv[2]);
        if (all is not null && _qNorm is null && !_q.HasActiveAdapter && !_k.HasActiveAdapter)
        {
            // Queries and keys sit side by side in the fused output: one rotary over both (four native calls, not
            // eight), applied before the heads move to dim 1, so cos/sin [B,1,T,hd] are viewed as [B,T,1,hd].
            var qk = Rotary.Apply(all.narrow(-1, 0, (_heads + _kvHeads) * _headDim).reshape(b, t, _heads + _kvHeads, _headDim),
                cos.transpose(1, 2), sin.transpose(1, 2));
            q = qk.narrow(2, 0, _heads).transpose(1, 2);
            k = qk.narrow(2, _heads, _kvHeads).transpose(1, 2);
        }
        else
        {
            q = q.reshape(b, t, _heads, _headDim);
            k = k.reshape(b, t, _kvHeads, _headDim);
            if (_qNorm is not null)
            {
                q = _qNorm.Forward(q);
                k = _kNorm!.Forward(k);
            }
            q = Rotary.Apply(q.transpose(1, 2), cos, sin);
            k = Rotary.Apply(k.transpose(1, 2), cos, sin);
        }
        v = v.reshape(b, t, _kvHeads, _headDim).transpose(1, 2);
        if (cache is not null)
        {
            (k, v) = cache.Append(layer, k, v);
        }
        if (t == 1 && cache is not null && (rowStarts is not null || mask is null) && !q.requires_grad && DecodeAttention.Serves(q, k, v))
        {
            return _o.Forward(DecodeAttention.Attend(q, k, v, rowStarts), training);
        }
        var groups = _heads / _kvHeads;
        if (t == 1 && groups > 1)
        {
            // A decoding step: the queries of one key/value group read the same keys, so they are stacked as rows of
            // that group instead of copying the whole cache groups times (the mask [B,1,1,S] is the same for each).
            var grouped = nn.functional.scaled_dot_product_attention(q.reshape(b, _kvHeads, groups, _headDim), k, v, mask);
            return _o.Forward(grouped.reshape(b, 1, _heads * _headDim), training);
        }
        if (_kvHeads != _heads)
        {
            // SDPA in TorchSharp 0.107 has no enable_gqa flag: share each key/value head across its query group.
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        // A single query (a decoding step) sees every key: SDPA's causal flag would align it with the first key only.
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, mask, is_casual: mask is null && t > 1);
        return _o.Forward(attended.transpose(1, 2).reshape(b, t, _heads * _headDim), training);
    }
}

internal sealed class LlamaMlp : nn.Module
{
    private readonly AdaptedLinear _gate, _up, _down;
    private SharedWeights _gateUp;

    public LlamaMlp(LlamaConfig c, ScalarType dtype) : base("LlamaMlp")
    {
        var gate = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, dtype: dtype);
        var up = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, dtype: dtype);
        var down = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: false, dtype: dtype);
        register_module("gate_proj", gate);
        register_module("up_proj", up);
        register_module("down_proj", down);
        (_gate, _up, _down) = (new(gate), new(up), new(down));
        _gateUp = new SharedWeights(gate, up);
    }

    public IEnumerable<(string Name, AdaptedLinear Projection)> Projections() =>
        [("gate_proj", _gate), ("up_proj", _up), ("down_proj", _down)];

    internal bool SharesProjectionWeights => _gateUp.Intact;

    internal void ShareProjectionWeights() => LlamaAttention.Reshare(ref _gateUp, _gate, _up);

    public Tensor Forward(Tensor x, bool training)
    {
        // Gate and up projections as one matmul (see LlamaAttention).
        var both = AdaptedLinear.Fused(x, training, _gateUp, _gate, _up);
        return _down.Forward(nn.functional.silu(both[0]) * both[1], training);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gateUp.Dispose();
        }
        base.Dispose(disposing);
    }
}

internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention _attention;
    private readonly LlamaMlp _mlp;
    private readonly RmsNorm _inputNorm, _postNorm;

    public LlamaDecoderLayer(LlamaConfig c, ScalarType dtype) : base("LlamaDecoderLayer")
    {
        _attention = new LlamaAttention(c, dtype);
        _mlp = new LlamaMlp(c, dtype);
        _inputNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype);
        _postNorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype);
        register_module("self_attn", _attention);
        register_module("mlp", _mlp);
        register_module("input_layernorm", _inputNorm);
        register_module("post_attention_layernorm", _postNorm);
    }

    public IEnumerable<(string Name, AdaptedLinear Projection)> Projections() =>
        _attention.Projections().Select(p => ("self_attn." + p.Name, p.Projection))
            .Concat(_mlp.Projections().Select(p => ("mlp." + p.Name, p.Projection)));

    internal bool SharesProjectionWeights => _attention.SharesProjectionWeights && _mlp.SharesProjectionWeights;

    internal void ShareProjectionWeights()
    {
        _attention.ShareProjectionWeights();
        _mlp.ShareProjectionWeights();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer, bool training, IReadOnlyList<long>? rowStarts = null)
    {
        var h = x + _attention.Forward(_inputNorm.Forward(x), cos, sin, mask, cache, layer, training, rowStarts);
        return h + _mlp.Forward(_postNorm.Forward(h), training);
    }
}

/// <summary>The "model." part of LlamaForCausalLM: embeddings, layers, final norm.</summary>
internal sealed class LlamaBody : nn.Module
{
    public readonly Embedding EmbedTokens;
    public readonly ModuleList<LlamaDecoderLayer> Layers;
    public readonly RmsNorm Norm;

    public LlamaBody(LlamaConfig c, ScalarType dtype) : base("LlamaModel")
    {
        EmbedTokens = nn.Embedding(c.VocabSize, c.HiddenSize, dtype: dtype);
        Layers = nn.ModuleList(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(c, dtype)).ToArray());
        Norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, dtype);
        register_module("embed_tokens", EmbedTokens);
        register_module("layers", Layers);
        register_module("norm", Norm);
    }
}

/// <summary>Rotary position embeddings in HF's rotate-half layout, computed from explicit positions.</summary>
internal static class Rotary
{
    /// <summary>
    /// cos and signed sin (see <see cref="Apply"/>) of shape [..., headDim] for positions of any shape, in
    /// <paramref name="dtype"/> (HF casts them to the model's).
    /// </summary>
    public static (Tensor Cos, Tensor SignedSin) Tables(Tensor positions, Tensor invFreq, ScalarType dtype)
    {
        var angles = positions.to(ScalarType.Float32).unsqueeze(-1) * invFreq; // [..., hd/2]
        var (cos, sin) = (angles.cos(), angles.sin());
        cos = cat([cos, cos], -1);
        sin = cat([sin.neg(), sin], -1);
        return dtype == ScalarType.Float32 ? (cos, sin) : (cos.to(dtype), sin.to(dtype));
    }

    /// <summary>
    /// HF's x·cos + rotate_half(x)·sin, with rotate_half(x) = [-x2, x1] written as roll(x)·[-sin, sin]: the same
    /// products (a sign moved between factors is exact) in four native calls instead of seven.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin) =>
        x * cos + x.roll(x.shape[^1] / 2, -1) * signedSin;

    /// <summary>
    /// HF's inverse frequencies for this config at a sequence length (only <c>dynamic</c> scaling depends on it:
    /// HF recomputes the base from the longest position of each forward call once it passes
    /// max_position_embeddings). Computed in fp64, returned as fp32 as HF does.
    /// </summary>
    public static double[] InverseFrequencies(LlamaConfig c, long sequenceLength)
    {
        var d = c.HeadDim;
        var theta = c.RopeTheta;
        var s = c.RopeScaling;
        if (s is { Type: "dynamic" } && sequenceLength > c.MaxPositionEmbeddings)
        {
            theta *= Math.Pow(s.Factor * sequenceLength / c.MaxPositionEmbeddings - (s.Factor - 1), d / (d - 2.0));
        }
        // HF builds the exponents in fp32 (arange(...).float() / dim) and the powers from them.
        var inv = Enumerable.Range(0, d / 2).Select(i => 1.0 / Math.Pow(theta, (float)(2 * i) / d)).Select(v => (double)(float)v).ToArray();
        switch (s?.Type)
        {
            case "linear":
                return inv.Select(v => (double)(float)(v / s.Factor)).ToArray();
            case "llama3":
                var lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                var highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                return inv.Select(f =>
                {
                    var wavelen = 2 * Math.PI / f;
                    if (wavelen < highWavelen)
                    {
                        return f;
                    }
                    if (wavelen > lowWavelen)
                    {
                        return (double)(float)(f / s.Factor);
                    }
                    var smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    return (double)(float)((1 - smooth) * f / s.Factor + smooth * f);
                }).ToArray();
            default:
                return inv;
        }
    }
}

/// <summary>
/// A Llama-family decoder (Llama 1/2/3, Mistral, Qwen2/2.5, Qwen3) with HF parameter names
/// (<c>model.layers.N.self_attn.q_proj.weight</c>, ...), so real checkpoints map one to one. Tied embeddings reuse
/// <c>model.embed_tokens.weight</c> as the head. Parameters may be fp32 (the simulator) or bf16/fp16; logits are fp32.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module
{
    private readonly LlamaBody _body;
    private readonly Linear? _head;
    private Tensor? _invFreq;
    private long _invFreqLength = -1;
    private Tensor? _ropeCos, _ropeSin;
    private readonly Lock _tablesLock = new();

    public LlamaConfig Config { get; }

    /// <param name="dtype">The parameters' dtype (fp32 by default); built in it directly, so a bf16 model never exists in fp32.</param>
    /// <param name="initialize">False when weights are about to be loaded: HF's initialisation would be overwritten.</param>
    public LlamaForCausalLM(LlamaConfig config, ScalarType dtype = ScalarType.Float32, bool initialize = true) : base("LlamaForCausalLM")
    {
        Native.TorchRuntime.EnsureNativeLibraryPatched();
        Config = config.Validated();
        _body = new LlamaBody(config, dtype);
        register_module("model", _body);
        if (!config.TieWordEmbeddings)
        {
            _head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, dtype: dtype);
            register_module("lm_head", _head);
        }
        if (initialize)
        {
            InitializeWeights();
        }
    }

    /// <summary>The device the parameters live on.</summary>
    public Device Device => _body.EmbedTokens.weight!.device;

    /// <summary>Whether every layer multiplies q/k/v and gate/up by one buffer each (see <see cref="SharedWeights"/>).</summary>
    internal bool SharesProjectionWeights => _body.Layers.All(l => l.SharesProjectionWeights);

    /// <summary>
    /// Moves the model (<c>Module.to</c>) and lays the q/k/v and gate/up parameters out in shared buffers again
    /// (moving replaces the parameter objects; see <see cref="SharedWeights"/>). Call before an optimizer holds the
    /// parameters: the ones it holds would no longer be the model's.
    /// </summary>
    public void MoveTo(Device device)
    {
        this.to(device);
        foreach (var layer in _body.Layers)
        {
            layer.ShareProjectionWeights();
        }
    }

    /// <summary>The dtype of the base weights (fp32, bf16 or fp16).</summary>
    public ScalarType DType => _body.EmbedTokens.weight!.dtype;

    /// <summary>
    /// When set, training forwards recompute each decoder layer in the backward pass instead of keeping its
    /// activations (HF's gradient checkpointing): memory per layer drops to its input, for one more forward.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Every projection of every layer, by its HF module path (<c>model.layers.0.self_attn.q_proj</c>).</summary>
    internal IEnumerable<(string Path, AdaptedLinear Projection)> Projections() =>
        _body.Layers.SelectMany((layer, i) => layer.Projections().Select(p => ($"model.layers.{i}.{p.Name}", p.Projection)));

    /// <summary>
    /// The model's own weights under their HF names: what a checkpoint holds. LoRA adapters are not among them
    /// (see <see cref="LoraAdapters"/>); TorchSharp's <c>state_dict()</c> is not used because it also lists every
    /// submodule under its C# field name.
    /// </summary>
    public IReadOnlyDictionary<string, Parameter> Weights() =>
        named_parameters().Where(kv => !LoraAdapters.IsAdapterName(kv.name))
            .ToDictionary(kv => kv.name, kv => kv.parameter, StringComparer.Ordinal);

    // HF Llama init: normal(0, 0.02) for every matrix, ones for norms, zeros for biases.
    private void InitializeWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                nn.init.zeros_(p);
            }
            else if (!name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                nn.init.normal_(p, 0, 0.02);
            }
        }
    }

    /// <summary>
    /// Logits [B,T,V] (fp32) for token ids [B,T]. Without <paramref name="attentionMask"/> the batch is causal from
    /// position 0 (right padding is harmless then: padded positions come after every real one). With it,
    /// the mask [B,S] covers cached plus new tokens (1 = real, 0 = left padding), positions count real tokens
    /// only, and attention uses one boolean mask (causal AND padding). <paramref name="cache"/> is extended in place.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (inputIds.shape[0], inputIds.shape[1]);
        var device = inputIds.device;
        Tensor positions;
        Tensor? mask = null;
        var past = cache?.Length ?? 0;
        long columns;
        if (attentionMask is null)
        {
            columns = past + t;
            positions = arange(past, past + t, ScalarType.Int64, device).unsqueeze(0).expand(b, t);
            if (past > 0 || (Config.SlidingWindow is { } w && columns > w))
            {
                mask = AttentionWindow(t, columns, device).view(1, 1, t, columns);
            }
        }
        else
        {
            columns = attentionMask.shape[1];
            var valid = attentionMask.to(ScalarType.Bool);
            positions = (valid.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).narrow(1, columns - t, t);
            mask = AttentionWindow(t, columns, device).view(1, 1, t, columns).logical_and(valid.view(b, 1, 1, columns));
        }
        var (cos, sin) = RotaryTables(positions, attentionMask is null ? past + t : -1, columns, device);
        return Run(inputIds, cos, sin, mask, cache, lastOnly).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One decoding step of a left-padded batch whose caller keeps positions and padding incrementally:
    /// <paramref name="inputIds"/> [B,1], <paramref name="positions"/> [B,1] (the real tokens before each row's new
    /// one), <paramref name="valid"/> [B,S] bool over cached plus new columns. The result equals
    /// <see cref="Forward"/> with <paramref name="valid"/> as its mask and <c>lastOnly</c>, without re-deriving
    /// positions (a cumulative sum over the whole mask) and the causal mask at every step. Null
    /// <paramref name="valid"/>: no row is padded. <paramref name="rowStarts"/>: each row's padding (the first column
    /// <paramref name="valid"/> marks real), which the CPU attention kernel reads instead of the mask.
    /// </summary>
    internal Tensor DecodeStep(Tensor inputIds, Tensor positions, Tensor? valid, KvCache cache, IReadOnlyList<long>? rowStarts = null)
    {
        if (Config.SlidingWindow is not null || Config.RopeScaling is { Type: "dynamic" })
        {
            // The window cuts columns and dynamic scaling reads the longest position: the general path has both
            // (without padding its positions, counted from the cache length, are the rows' own).
            return Forward(inputIds, valid, cache, lastOnly: true);
        }
        using var scope = NewDisposeScope();
        var (b, columns) = (inputIds.shape[0], cache.Length + 1);
        // A single query per row sees every cached column: the mask is the padding alone, and none without padding.
        var mask = valid?.view(b, 1, 1, columns);
        var (cos, sin) = RotaryTables(positions, -1, columns, inputIds.device);
        return Run(inputIds, cos, sin, mask, cache, lastOnly: true, valid is null ? null : rowStarts).MoveToOuterDisposeScope();
    }

    private Tensor Run(Tensor inputIds, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, bool lastOnly, IReadOnlyList<long>? rowStarts = null)
    {
        var t = inputIds.shape[1];
        var h = _body.EmbedTokens.forward(inputIds);
        // Training's shape only when gradients flow and the module is in train mode; a checkpointed layer's forward
        // runs without gradients, so the decision is taken here, once, for its forward and its recomputation alike.
        var training = this.training && is_grad_enabled();
        var checkpoint = GradientCheckpointing && training && cache is null;
        if (checkpoint && !h.requires_grad)
        {
            // With a frozen embedding (LoRA) nothing entering the first checkpoint needs a gradient, and the
            // recomputed layers would be cut from the graph: HF's enable_input_require_grads, for the same reason.
            h = h.detach().requires_grad_(true);
        }
        var shared = checkpoint ? new LayerCheckpoint.SharedInputs(_body.Layers.Count, cos, sin, mask) : null;
        for (var i = 0; i < _body.Layers.Count; i++)
        {
            var layer = _body.Layers[i];
            h = checkpoint
                ? LayerCheckpoint.Apply(h, x => layer.Forward(x, cos, sin, mask, null, 0, true), shared!)
                : layer.Forward(h, cos, sin, mask, cache, i, training, rowStarts);
        }
        if (lastOnly)
        {
            h = h.narrow(1, t - 1, 1);
        }
        h = _body.Norm.Forward(h);
        var logits = _head is null ? nn.functional.linear(h, _body.EmbedTokens.weight!) : _head.forward(h);
        if (logits.dtype != ScalarType.Float32)
        {
            logits = logits.to(ScalarType.Float32);
        }
        cache?.Commit(t);
        return logits;
    }

    // cos and signed sin [B,1,T,headDim] for positions [B,T], each below `columns` (a position counts real tokens,
    // a column every token). Without dynamic scaling the frequencies never change, so the tables for positions
    // 0..n-1 are computed once (grown by doubling) and looked up: two gathers per forward where computing them took
    // eight native calls. Each entry is the same fp32 product pos·freq as before. `length`: see InverseFrequencies.
    /// <summary>Rows of the cached rotary tables (0 before the first forward): they grow only with the longest position.</summary>
    internal long RotaryTableRows => _ropeCos?.shape[0] ?? 0;

    private (Tensor Cos, Tensor SignedSin) RotaryTables(Tensor positions, long length, long columns, Device device)
    {
        // Several decoding workers may run one model at once: a table one of them grows (and frees the old one of)
        // must not be read by another meanwhile.
        lock (_tablesLock)
        {
            return RotaryTablesLocked(positions, length, columns, device);
        }
    }

    private (Tensor Cos, Tensor SignedSin) RotaryTablesLocked(Tensor positions, long length, long columns, Device device)
    {
        var (b, t) = (positions.shape[0], positions.shape[1]);
        var invFreq = InverseFrequencies(positions, length, device);
        if (Config.RopeScaling is { Type: "dynamic" })
        {
            var (c, s) = Rotary.Tables(positions, invFreq, DType);
            return (c.unsqueeze(1), s.unsqueeze(1));
        }
        if (_ropeCos is null || !IsOn(_ropeCos, device) || _ropeCos.shape[0] < columns)
        {
            var size = Math.Max(columns, Math.Min(Math.Max(256, (_ropeCos?.shape[0] ?? 0) * 2), Config.MaxPositionEmbeddings));
            using var scope = NewDisposeScope();
            var (c, s) = Rotary.Tables(arange(size, ScalarType.Int64, device), invFreq, DType);
            _ropeCos?.Dispose();
            _ropeSin?.Dispose();
            _ropeCos = c.DetachFromDisposeScope();
            _ropeSin = s.DetachFromDisposeScope();
        }
        var flat = positions.reshape(-1);
        return (_ropeCos.index_select(0, flat).view(b, 1, t, -1), _ropeSin!.index_select(0, flat).view(b, 1, t, -1));
    }

    // TorchSharp's Device has no equality: `tensor.device` is a fresh object, so comparing it with != was always
    // true and rebuilt both tables (up to max_position_embeddings rows) and the frequencies at every forward.
    private static bool IsOn(Tensor t, Device device) => t.device_type == device.type && t.device_index == device.index;

    // Causal, and within Mistral's sliding window when there is one: query column q sees key column k when
    // k <= q and q - k < window (HF masks by cache columns; with left padding both shift alike).
    private Tensor AttentionWindow(long t, long columns, Device device)
    {
        var offset = columns - t;
        var causal = ones(t, columns, ScalarType.Bool, device).tril(offset);
        return Config.SlidingWindow is { } w && columns > w
            ? causal.logical_and(ones(t, columns, ScalarType.Bool, device).triu(offset - w + 1))
            : causal;
    }

    // One table per sequence length for dynamic scaling (HF recomputes it per call from the longest position);
    // otherwise one table for the model's life. `length` < 0: read it from the positions (a host sync, dynamic only).
    private Tensor InverseFrequencies(Tensor positions, long length, Device device)
    {
        var dynamic = Config.RopeScaling is { Type: "dynamic" };
        var key = dynamic ? Math.Max(length >= 0 ? length : positions.max().item<long>() + 1, Config.MaxPositionEmbeddings) : 0;
        if (_invFreq is null || !IsOn(_invFreq, device) || key != _invFreqLength)
        {
            _invFreq?.Dispose();
            _invFreq = tensor(Rotary.InverseFrequencies(Config, key).Select(v => (float)v).ToArray(), device: device).DetachFromDisposeScope();
            _invFreqLength = key;
        }
        return _invFreq;
    }

    /// <summary>Parameters grouped for AdamW: matrices get weight decay; norms, biases and embeddings do not. Frozen ones are left out.</summary>
    public (List<Parameter> Decay, List<Parameter> NoDecay) ParameterGroupsForDecay()
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in named_parameters())
        {
            if (!p.requires_grad)
            {
                continue;
            }
            var exempt = name.Contains("norm", StringComparison.Ordinal) || name.Contains("embed_tokens", StringComparison.Ordinal)
                || name.EndsWith(".bias", StringComparison.Ordinal);
            (exempt ? noDecay : decay).Add(p);
        }
        return (decay, noDecay);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _invFreq?.Dispose();
            _ropeCos?.Dispose();
            _ropeSin?.Dispose();
        }
        base.Dispose(disposing);
    }
}
