using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Benchmarks;

/// <summary>
/// Bytes a training run holds, by category, from a <see cref="LlamaConfig"/>. The one place these formulas live:
/// <c>spar bench checkpoint</c> prints them beside what it measures and engine/README.md's "Memory: what fits" table
/// is computed by them.
/// </summary>
public sealed record TrainingMemory(
    long Parameters,
    long TrainableParameters,
    long WeightBytes,
    long TrainableWeightBytes,
    long GradientBytes,
    long OptimizerBytes,
    long ActivationBytes)
{
    public long TotalBytes => WeightBytes + TrainableWeightBytes + GradientBytes + OptimizerBytes + ActivationBytes;

    public bool FitsIn(long bytes) => TotalBytes <= bytes;
}

public static class MemoryAccounting
{
    /// <summary>One 80 GB A100: 80 GiB of device memory (the CUDA context and allocator slack not subtracted).</summary>
    public const long A100Bytes = 80L << 30;

    /// <summary>Every parameter, counted once: a tied head shares the embedding matrix.</summary>
    public static long Parameters(LlamaConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize;
        var embeddings = v * d * (c.TieWordEmbeddings ? 1 : 2);
        return embeddings + c.NumHiddenLayers * LayerParameters(c) + d;
    }

    /// <summary>One decoder layer: q/k/v/o, gate/up/down, two RMSNorms, plus q/k/v biases and q/k norms when the family has them.</summary>
    public static long LayerParameters(LlamaConfig c)
    {
        long d = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        var projections = Projections(c).Sum(p => p.In * p.Out);
        var biases = c.AttentionBias ? q + 2 * kv : 0;
        var qkNorms = c.QkNorm ? 2L * c.HeadDim : 0;
        return projections + biases + qkNorms + 2 * d;
    }

    /// <summary>The seven projections of a layer by their HF names with (in, out) features.</summary>
    public static IReadOnlyList<(string Name, long In, long Out)> Projections(LlamaConfig c)
    {
        long d = c.HiddenSize, i = c.IntermediateSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        return [("q_proj", d, q), ("k_proj", d, kv), ("v_proj", d, kv), ("o_proj", q, d), ("gate_proj", d, i), ("up_proj", d, i), ("down_proj", i, d)];
    }

    /// <summary>LoRA adds A [r × in] and B [out × r] to each targeted projection of every layer.</summary>
    public static long LoraParameters(LlamaConfig c, int rank, IReadOnlyCollection<string> targets) =>
        c.NumHiddenLayers * Projections(c).Where(p => targets.Contains(p.Name)).Sum(p => rank * (p.In + p.Out));

    /// <summary>
    /// Activations one layer keeps for backward, per token, in elements: the normed inputs of attention and MLP (2d),
    /// q, k, v (d + 2·kv), the attention output (d), the two residual sums (2d), gate, up, silu(gate) and their product
    /// (4·intermediate). Attention scores are not kept (scaled_dot_product_attention's fused kernels recompute them).
    /// For Llama-3-8B this is 20·d: the "stated factor".
    /// </summary>
    public static long LayerActivationElementsPerToken(LlamaConfig c)
    {
        long d = c.HiddenSize, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        return 6 * d + 2 * kv + 4L * c.IntermediateSize;
    }

    /// <summary>
    /// Activation bytes of one forward/backward over <paramref name="sequences"/> × <paramref name="length"/> tokens.
    /// Without checkpointing every layer keeps <see cref="LayerActivationElementsPerToken"/>; with it each layer keeps
    /// only its input (d elements) and one layer at a time is recomputed in full. The head adds three fp32 copies of
    /// the logits (the logits, log-softmax, their gradient): our forward returns fp32 logits whatever the weights' dtype.
    /// </summary>
    public static long ActivationBytes(LlamaConfig c, int sequences, int length, int bytesPerElement, bool checkpointing)
    {
        var tokens = (long)sequences * length;
        var full = LayerActivationElementsPerToken(c);
        var layers = checkpointing
            ? tokens * (c.NumHiddenLayers * (long)c.HiddenSize + full) * bytesPerElement
            : tokens * c.NumHiddenLayers * full * bytesPerElement;
        return layers + HeadActivationBytes(c, sequences, length);
    }

    public static long HeadActivationBytes(LlamaConfig c, int sequences, int length) => 3L * sequences * length * c.VocabSize * 4;

    /// <summary>
    /// LoRA: the base frozen in <paramref name="baseBytesPerElement"/> (no gradients), adapters in fp32 as the engine
    /// attaches them, an fp32 gradient per adapter parameter and AdamW's two fp32 moments.
    /// </summary>
    public static TrainingMemory Lora(LlamaConfig c, int rank, IReadOnlyCollection<string> targets, int baseBytesPerElement,
        int sequences, int length, bool checkpointing)
    {
        var adapters = LoraParameters(c, rank, targets);
        return new TrainingMemory(Parameters(c), adapters, Parameters(c) * baseBytesPerElement, adapters * 4, adapters * 4,
            2 * adapters * 4, ActivationBytes(c, sequences, length, baseBytesPerElement, checkpointing));
    }

    /// <summary>
    /// Full training as this engine does it: every parameter trains in its own dtype and torch's AdamW keeps both
    /// moments in that dtype too (no fp32 master copy), so bf16 costs 2 + 2 + 4 = 8 bytes per parameter and fp32 16.
    /// </summary>
    public static TrainingMemory Full(LlamaConfig c, int bytesPerElement, int sequences, int length, bool checkpointing)
    {
        var p = Parameters(c);
        return new TrainingMemory(p, p, p * bytesPerElement, 0, p * bytesPerElement, 2 * p * bytesPerElement,
            ActivationBytes(c, sequences, length, bytesPerElement, checkpointing));
    }

    /// <summary>Llama-3.2-1B's config.json, exactly (random weights are all this engine can have here).</summary>
    public static LlamaConfig Llama32_1B() => Llama3(2048, 8192, 16, 32, 8, tied: true);

    /// <summary>Llama-3.2-3B: hidden 3072, intermediate 8192, 28 layers, 24 heads, 8 KV heads, tied.</summary>
    public static LlamaConfig Llama32_3B() => Llama3(3072, 8192, 28, 24, 8, tied: true);

    /// <summary>Llama-3(.1)-8B: hidden 4096, intermediate 14336, 32 layers, 32 heads, 8 KV heads, untied head.</summary>
    public static LlamaConfig Llama3_8B() => Llama3(4096, 14336, 32, 32, 8, tied: false);

    private static LlamaConfig Llama3(int hidden, int intermediate, int layers, int heads, int kvHeads, bool tied) =>
        new(128256, hidden, intermediate, layers, heads, kvHeads, MaxPositionEmbeddings: 131072, RmsNormEps: 1e-5,
            RopeTheta: 500000, TieWordEmbeddings: tied, BosTokenId: 128000, EosTokenId: 128001)
        {
            RopeScaling = new RopeScaling("llama3", 32, 1, 4, 8192),
            TorchDtype = "bfloat16",
        };
}
