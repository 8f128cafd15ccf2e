using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Training;

/// <summary>Where training stands after a step: step counts, fractional epoch and that step's metrics (TRL names).</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Epoch, IReadOnlyDictionary<string, double> Metrics);

/// <summary>What a training run did: steps taken, the last step's metrics, wall time.</summary>
public sealed record TrainingSummary(int Steps, IReadOnlyDictionary<string, double> LastMetrics, TimeSpan Elapsed, long TokensSeen);

/// <summary>
/// The part of SFT and DPO that is the same: AdamW with decay groups, warmup and schedule, clipping, the step
/// counter, metrics JSONL and the resumable state saved beside a checkpoint.
/// </summary>
internal sealed class OptimizationLoop : IDisposable
{
    public const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "trainer_state.json";

    /// <summary>Where a LoRA run's adapters go beside the checkpoint, in PEFT's layout.</summary>
    public const string AdapterDirectory = "adapter";

    private readonly LanguageModel _model;
    private readonly TrainingOptions _options;
    private readonly AdamW _optimizer;
    private readonly List<Parameter> _parameters;

    public OptimizationLoop(LanguageModel model, TrainingOptions options)
    {
        _model = model;
        _options = options;
        if (options.Lora is { } lora && LoraAdapters.Options(model.Network) is null)
        {
            LoraAdapters.Attach(model.Network, lora);
        }
        model.Network.GradientCheckpointing = options.GradientCheckpointing;
        var (decay, noDecay) = model.Network.ParameterGroupsForDecay();
        _parameters = [.. decay, .. noDecay];
        var groups = new List<AdamW.ParamGroup>
        {
            new(decay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay),
            new(noDecay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, 0),
        };
        _optimizer = optim.AdamW(groups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
        ContiguousMoments(_optimizer);
    }

    // AdamW makes each moment like its parameter, and the q/k/v and gate/up parameters are transposed views
    // (SharedWeights), so theirs come out transposed; TorchSharp saves and loads only contiguous tensors. The
    // updates are elementwise: the same values in a contiguous layout.
    private static void ContiguousMoments(AdamW optimizer)
    {
        using var noGrad = no_grad();
        foreach (var state in optimizer.state_dict().State.OfType<AdamW.State>())
        {
            state.exp_avg = Contiguous(state.exp_avg);
            state.exp_avg_sq = Contiguous(state.exp_avg_sq);
            if (state.max_exp_avg_sq is not null)
            {
                state.max_exp_avg_sq = Contiguous(state.max_exp_avg_sq);
            }
        }
    }

    private static Tensor Contiguous(Tensor moment)
    {
        if (moment.is_contiguous())
        {
            return moment;
        }
        var copy = moment.contiguous().DetachFromDisposeScope();
        moment.Dispose();
        return copy;
    }

    /// <summary>Optimizer steps taken so far (restored by <see cref="Load"/>).</summary>
    public int Step { get; private set; }

    public double LearningRateAt(int step, int totalSteps)
    {
        var peak = _options.LearningRate;
        if (step < _options.WarmupSteps)
        {
            return peak * (step + 1) / (_options.WarmupSteps + 1);
        }
        var decaySteps = Math.Max(1, totalSteps - _options.WarmupSteps);
        var progress = Math.Clamp((double)(step - _options.WarmupSteps) / decaySteps, 0, 1);
        var floor = _options.MinLearningRateRatio;
        var factor = _options.Schedule switch
        {
            LearningRateSchedule.Linear => 1 - (1 - floor) * progress,
            LearningRateSchedule.Cosine => floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => 1.0,
        };
        return peak * factor;
    }

    /// <summary>Clips, applies the scheduled learning rate, steps AdamW, zeroes gradients; returns (grad norm, lr).</summary>
    public (double GradNorm, double LearningRate) ApplyGradients(int totalSteps)
    {
        var norm = _options.MaxGradNorm > 0
            ? nn.utils.clip_grad_norm_(_parameters, _options.MaxGradNorm)
            : GradNorm();
        var lr = LearningRateAt(Step, totalSteps);
        foreach (var group in _optimizer.ParamGroups)
        {
            group.LearningRate = lr;
        }
        _optimizer.step();
        _optimizer.zero_grad();
        Step++;
        return (norm, lr);
    }

    private double GradNorm()
    {
        using var scope = NewDisposeScope();
        var total = 0.0;
        foreach (var p in _parameters)
        {
            if (p.grad is { } g)
            {
                total += g.square().sum().item<float>();
            }
        }
        return Math.Sqrt(total);
    }

    public void ZeroGrad() => _optimizer.zero_grad();

    /// <summary>Appends one JSONL line: step, epoch, then the metrics in insertion order.</summary>
    /// <summary>
    /// The epoch loop both trainers share: length-bucketed batches per epoch (resuming mid-epoch at <see cref="Step"/>
    /// with the same order), one optimizer step per batch, metrics logged and progress reported after each.
    /// <paramref name="step"/> runs forward/backward on a batch (indices into the data) and returns its metrics and
    /// token count; gradient norm and learning rate are added here.
    /// </summary>
    public TrainingSummary RunEpochs(IReadOnlyList<int> lengths, int? stopAtStep, IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken, Func<int[], (Dictionary<string, double> Metrics, long Tokens)> step)
    {
        var total = _options.TotalSteps(lengths.Count);
        var end = Math.Min(total, stopAtStep ?? total);
        var perEpoch = (lengths.Count + _options.BatchSize - 1) / _options.BatchSize;
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        IReadOnlyDictionary<string, double> last = new Dictionary<string, double>();
        while (Step < end)
        {
            var batches = Batching.EpochBatches(lengths, _options.BatchSize, _options.BucketBatches, _options.Seed, Step / perEpoch);
            for (var b = Step % perEpoch; b < batches.Count && Step < end; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (metrics, count) = step(batches[b]);
                tokens += count;
                var (norm, lr) = ApplyGradients(total);
                metrics["grad_norm"] = norm;
                metrics["learning_rate"] = lr;
                last = metrics;
                var epoch = (double)Step / perEpoch;
                WriteMetrics(epoch, metrics);
                progress?.Report(new TrainingProgress(Step, total, epoch, metrics));
            }
        }
        return new TrainingSummary(Step, last, clock.Elapsed, tokens);
    }

    public void WriteMetrics(double epoch, IReadOnlyDictionary<string, double> metrics)
    {
        if (_options.MetricsPath is not { } path || Step % _options.LogEvery != 0)
        {
            return;
        }
        var o = new JsonObject { ["step"] = Step, ["epoch"] = Math.Round(epoch, 6) };
        foreach (var (k, v) in metrics)
        {
            o[k] = double.IsFinite(v) ? v : null;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
        File.AppendAllText(path, o.ToJsonString() + "\n", Encoding.UTF8);
    }

    /// <summary>Saves the model (HF layout), the optimizer state and the step counter into <paramref name="directory"/>.</summary>
    public void Save(string directory, JsonObject? extra = null)
    {
        ModelCheckpoint.Save(_model, directory);
        if (LoraAdapters.Options(_model.Network) is not null)
        {
            LoraAdapters.Save(_model.Network, Path.Combine(directory, AdapterDirectory), _model.SourceDirectory);
        }
        var optimizerPath = Path.Combine(directory, OptimizerFile);
        _optimizer.save_state_dict(optimizerPath + ".tmp");
        File.Move(optimizerPath + ".tmp", optimizerPath, overwrite: true);
        var state = extra ?? [];
        state["global_step"] = Step;
        state["seed"] = _options.Seed;
        ModelCheckpoint.WriteText(Path.Combine(directory, StateFile), state.ToJsonString());
    }

    /// <summary>Restores weights, optimizer state and step from a directory written by <see cref="Save"/>.</summary>
    public JsonObject Load(string directory)
    {
        var statePath = Path.Combine(directory, StateFile);
        var optimizerPath = Path.Combine(directory, OptimizerFile);
        if (!File.Exists(statePath) || !File.Exists(optimizerPath))
        {
            throw new UserInputException($"{directory}: not a training checkpoint ({StateFile} or {OptimizerFile} missing)");
        }
        using (var saved = ModelCheckpoint.LoadNetwork(directory, _model.Device.ToString(), _model.Network.DType))
        using (no_grad())
        {
            var source = saved.Weights();
            foreach (var (name, t) in _model.Network.Weights())
            {
                t.copy_(source[name]);
            }
        }
        if (LoraAdapters.Options(_model.Network) is not null)
        {
            LoraAdapters.ReadWeights(_model.Network, Path.Combine(directory, AdapterDirectory));
        }
        _optimizer.load_state_dict(optimizerPath);
        JsonObject state;
        try
        {
            state = JsonNode.Parse(File.ReadAllText(statePath)) as JsonObject ?? throw new UserInputException($"{statePath}: expected an object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{statePath}: not valid JSON ({e.Message})");
        }
        Step = state["global_step"]?.GetValue<int>() ?? throw new UserInputException($"{statePath}: missing global_step");
        return state;
    }

    public void Dispose() => _optimizer.Dispose();

    public static string Format(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
