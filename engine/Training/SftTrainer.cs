using System.Diagnostics;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Training;

/// <summary>
/// Supervised fine-tuning of <see cref="LanguageModel"/> in place: weighted cross-entropy over each sequence's
/// weights (target tokens, plus prompt tokens when <see cref="SftOptions.InputLossWeight"/> &gt; 0), normalised
/// by the total weight of the optimizer batch so gradient accumulation equals one big batch.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private readonly LanguageModel _model;
    private readonly SftOptions _options;
    private readonly OptimizationLoop _loop;

    public SftTrainer(LanguageModel model, SftOptions options)
    {
        _model = model;
        _options = options.Validated();
        _loop = new OptimizationLoop(model, _options);
    }

    /// <summary>Optimizer steps taken so far.</summary>
    public int Step => _loop.Step;

    /// <summary>Optimizer steps a run over <paramref name="count"/> examples takes in total.</summary>
    public int TotalSteps(int count) => _options.TotalSteps(count);

    /// <summary>
    /// Trains until the schedule's last step (or <paramref name="stopAtStep"/>, to checkpoint part way; a resumed
    /// trainer continues from its step with the same data order). Reports progress after every step.
    /// </summary>
    public TrainingSummary Train(IReadOnlyList<TrainingSequence> data, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default, int? stopAtStep = null)
    {
        if (data.Count == 0)
        {
            throw new ArgumentException("no training data", nameof(data));
        }
        var input = _options.InputLossWeight;
        var sequences = input == 0 ? data : data.Select(s => WithInputWeight(s, (float)input)).ToList();
        var lengths = sequences.Select(s => s.Tokens.Length).ToList();
        _model.Network.train();
        var summary = _loop.RunEpochs(lengths, stopAtStep, progress, cancellationToken, batch =>
        {
            var (loss, tokens) = StepOn(batch.Select(i => sequences[i]).ToList());
            return (new Dictionary<string, double> { ["loss"] = loss }, tokens);
        });
        _model.Network.eval();
        return summary;
    }

    // Forward/backward over micro-batches; returns the batch's weighted mean loss and its real-token count.
    private (double Loss, long Tokens) StepOn(List<TrainingSequence> batch)
    {
        var totalWeight = batch.Sum(s => s.Weights.Take(_options.MaxSequenceLength).Sum());
        if (totalWeight <= 0)
        {
            _loop.ZeroGrad();
            return (0, 0);
        }
        double loss = 0;
        long tokens = 0;
        for (var start = 0; start < batch.Count; start += _options.MicroBatchSize)
        {
            using var scope = NewDisposeScope();
            var micro = batch.GetRange(start, Math.Min(_options.MicroBatchSize, batch.Count - start));
            var (inputs, labels, weights, _) = Batching.Collate(micro, _model.Tokenizer.PadId, _options.MaxSequenceLength, _model.Device);
            var logits = _model.Network.Forward(inputs);
            var nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), reduction: nn.Reduction.None);
            var part = (nll * weights.reshape(-1)).sum() / totalWeight;
            part.backward();
            loss += part.item<float>();
            tokens += micro.Sum(s => Math.Min(s.Tokens.Length, _options.MaxSequenceLength));
        }
        return (loss, tokens);
    }

    private static TrainingSequence WithInputWeight(TrainingSequence s, float inputWeight)
    {
        var weights = (float[])s.Weights.Clone();
        for (var i = 1; i < weights.Length; i++)
        {
            if (!s.Target[i] && weights[i] == 0)
            {
                weights[i] = inputWeight;
            }
        }
        return s with { Weights = weights };
    }

    /// <summary>Saves model, optimizer and step so that <see cref="Resume"/> continues exactly.</summary>
    public void SaveCheckpoint(string directory) => _loop.Save(directory);

    /// <summary>Loads weights, optimizer state and step saved by <see cref="SaveCheckpoint"/>.</summary>
    public void Resume(string directory) => _loop.Load(directory);

    public void Dispose() => _loop.Dispose();
}
