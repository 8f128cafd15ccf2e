using System.Text.Json.Serialization;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Training;

/// <summary>How the learning rate moves after warmup.</summary>
public enum LearningRateSchedule
{
    /// <summary>Stays at the peak.</summary>
    Constant,

    /// <summary>Falls linearly to <see cref="TrainingOptions.MinLearningRateRatio"/> × peak at the last step.</summary>
    Linear,

    /// <summary>Follows half a cosine down to <see cref="TrainingOptions.MinLearningRateRatio"/> × peak.</summary>
    Cosine,
}

/// <summary>
/// Optimisation settings shared by SFT and DPO. AdamW with β1/β2 0.9/0.999, weight decay only on matrices (never on
/// norms or embeddings). <see cref="BatchSize"/> sequences (pairs for DPO) per optimizer step, processed
/// <see cref="MicroBatchSize"/> at a time (gradient accumulation). Linear warmup over <see cref="WarmupSteps"/>.
/// </summary>
public abstract record TrainingOptions : IValidatedOptions
{
    /// <summary>Peak learning rate, in (0, 1].</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Passes over the data (default 1); <see cref="MaxSteps"/> &gt; 0 caps the optimizer steps.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Optimizer-step cap; 0 (default) means as many as <see cref="Epochs"/> need.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Examples per optimizer step (default 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Examples per forward pass (default 32); smaller values trade speed for memory.</summary>
    public int MicroBatchSize { get; init; } = 32;

    public int WarmupSteps { get; init; }

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Floor of the linear/cosine decay as a fraction of the peak (default 0, range 0–1).</summary>
    public double MinLearningRateRatio { get; init; }

    /// <summary>Decoupled weight decay on weight matrices (default 0).</summary>
    public double WeightDecay { get; init; }

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Global gradient-norm clip (default 1); 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Seeds the data order (shuffling and length buckets).</summary>
    public long Seed { get; init; }

    /// <summary>Longer sequences are cut at this many tokens (default 1024).</summary>
    public int MaxSequenceLength { get; init; } = 1024;

    /// <summary>Batches sorted by length together (default 8): larger means less padding, less randomness.</summary>
    public int BucketBatches { get; init; } = 8;

    /// <summary>Metrics are appended here as JSONL (TRL names) when set.</summary>
    public string? MetricsPath { get; init; }

    /// <summary>Write metrics every this many steps (default 1).</summary>
    public int LogEvery { get; init; } = 1;

    /// <summary>
    /// Train LoRA adapters instead of the whole model (attached at the trainer's start unless the network has them
    /// already); null (default) trains every weight. Left out of serialised options when unset, so stored option
    /// hashes (the simulator's bootstrap cache keys) stay what they were.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LoraOptions? Lora { get; init; }

    /// <summary>Recompute each layer in the backward pass instead of storing its activations (less memory, one more forward).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool GradientCheckpointing { get; init; }

    /// <summary>Optimizer steps a run over <paramref name="count"/> examples takes: epochs of batches, capped by <see cref="MaxSteps"/> when set.</summary>
    public int TotalSteps(int count)
    {
        var perEpoch = (count + BatchSize - 1) / BatchSize;
        var total = perEpoch * Epochs;
        return MaxSteps > 0 ? Math.Min(total, MaxSteps) : total;
    }

    public virtual IEnumerable<string> Problems() => new ProblemList()
        .Require(LearningRate > 0 && LearningRate <= 1, $"learning_rate must be in (0, 1] (got {LearningRate})")
        .Positive("epochs", Epochs)
        .NonNegative("max_steps", MaxSteps)
        .Positive("batch_size", BatchSize)
        .Positive("micro_batch_size", MicroBatchSize)
        .NonNegative("warmup_steps", WarmupSteps)
        .InRange("min_learning_rate_ratio", MinLearningRateRatio, 0, 1)
        .NonNegative("weight_decay", WeightDecay)
        .Require(Beta1 is >= 0 and < 1, $"beta1 must be in [0, 1) (got {Beta1})")
        .Require(Beta2 is >= 0 and < 1, $"beta2 must be in [0, 1) (got {Beta2})")
        .Positive("epsilon", Epsilon)
        .NonNegative("max_grad_norm", MaxGradNorm)
        .InRange("max_sequence_length", MaxSequenceLength, 2, 1 << 20)
        .Positive("bucket_batches", BucketBatches)
        .Positive("log_every", LogEvery)
        .Concat(Lora?.Problems() ?? []);
}

/// <summary>
/// Supervised fine-tuning: cross-entropy on target tokens (paper Eq. 1), plus an optional auxiliary language-model
/// loss on prompt tokens with weight <see cref="InputLossWeight"/> (default 0; 0.5 helped tiny models).
/// </summary>
public sealed record SftOptions : TrainingOptions
{
    public double InputLossWeight { get; init; }

    public override IEnumerable<string> Problems() =>
        base.Problems().Concat(new ProblemList().NonNegative("input_loss_weight", InputLossWeight));
}

/// <summary>
/// DPO (paper Eq. 2, sigmoid loss) with temperature <see cref="Beta"/> (default 0.1, &gt; 0) and an NLL term on
/// chosen responses weighted by <see cref="NllWeight"/> (default 0.1, TRL's rpo_alpha; 0 disables).
/// The reference model is the policy as it was before the first update; with LoRA, the base without its adapters.
/// </summary>
public sealed record DpoOptions : TrainingOptions
{
    public DpoOptions()
    {
        LearningRate = 5e-7;
        BatchSize = 16;
        MicroBatchSize = 16;
    }

    public double Beta { get; init; } = 0.1;

    public double NllWeight { get; init; } = 0.1;

    /// <summary>
    /// With LoRA, take the reference with the adapters on, as they are before the first update: a run that trains one
    /// adapter across iterations then has M_{t-1} as its reference, as the paper's DPO does, instead of the base M_0.
    /// Left out of serialised options when false, so stored option hashes stay what they were.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ReferenceWithAdapters { get; init; }

    public override IEnumerable<string> Problems() =>
        base.Problems().Concat(new ProblemList().Positive("beta", Beta).NonNegative("nll_weight", NllWeight));
}
