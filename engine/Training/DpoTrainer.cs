using System.Diagnostics;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Training;

/// <summary>
/// DPO with the sigmoid loss, −log σ(β((π_c − r_c) − (π_r − r_r))), plus <see cref="DpoOptions.NllWeight"/> times
/// the mean NLL of chosen target tokens. Log-probabilities are sums over target tokens. The reference
/// log-probabilities come from the policy as it was before this trainer's first update, computed once per dataset
/// (so no second copy of the model is kept); they are saved with checkpoints so a resumed run uses the same ones.
/// </summary>
public sealed class DpoTrainer : IDisposable
{
    private const string ReferenceFile = "reference_logps.json";

    private readonly LanguageModel _model;
    private readonly DpoOptions _options;
    private readonly OptimizationLoop _loop;
    private double[]? _refChosen, _refRejected;
    private int _referenceCount = -1;

    public DpoTrainer(LanguageModel model, DpoOptions options)
    {
        _model = model;
        _options = options.Validated();
        _loop = new OptimizationLoop(model, _options);
    }

    public int Step => _loop.Step;

    public int TotalSteps(int count) => _options.TotalSteps(count);

    private (TrainingSequence Chosen, TrainingSequence Rejected) Encode(DpoPair pair) =>
        (TrainingSequence.FromChat(_model.Template, pair.Prompt, pair.Chosen), TrainingSequence.FromChat(_model.Template, pair.Prompt, pair.Rejected));

    /// <summary>Trains on <paramref name="pairs"/>; metrics carry TRL's names (loss, rewards/*, logps/*, nll_loss, ...).</summary>
    public TrainingSummary Train(IReadOnlyList<DpoPair> pairs, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default, int? stopAtStep = null)
    {
        if (pairs.Count == 0)
        {
            throw new ArgumentException("no preference pairs", nameof(pairs));
        }
        var encoded = pairs.Select(Encode).ToList();
        EnsureReference(encoded);
        var lengths = encoded.Select(e => Math.Max(e.Chosen.Tokens.Length, e.Rejected.Tokens.Length)).ToList();
        _model.Network.train();
        var summary = _loop.RunEpochs(lengths, stopAtStep, progress, cancellationToken, batch =>
            (Pass(encoded, batch, train: true), batch.Sum(i => (long)encoded[i].Chosen.Tokens.Length + encoded[i].Rejected.Tokens.Length)));
        _model.Network.eval();
        return summary;
    }

    /// <summary>DPO metrics of the current policy over all pairs, without updating it.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<DpoPair> pairs)
    {
        var encoded = pairs.Select(Encode).ToList();
        EnsureReference(encoded);
        _model.Network.eval();
        using var noGrad = no_grad();
        return Pass(encoded, Enumerable.Range(0, pairs.Count).ToArray(), train: false);
    }

    private void EnsureReference(List<(TrainingSequence Chosen, TrainingSequence Rejected)> encoded)
    {
        if (_referenceCount == encoded.Count && _refChosen is not null)
        {
            return;
        }
        if (_loop.Step > 0)
        {
            throw new InvalidOperationException("reference log-probabilities must be computed before the first update: use one DpoTrainer per dataset");
        }
        _model.Network.eval();
        using var noGrad = no_grad();
        // With LoRA the reference is the same network with its adapters off: the base, no second copy in memory.
        using var baseOnly = LoraAdapters.Options(_model.Network) is null || _options.ReferenceWithAdapters ? null : LoraAdapters.Disabled(_model.Network);
        _refChosen = new double[encoded.Count];
        _refRejected = new double[encoded.Count];
        for (var start = 0; start < encoded.Count; start += _options.MicroBatchSize)
        {
            using var scope = NewDisposeScope();
            var idx = Enumerable.Range(start, Math.Min(_options.MicroBatchSize, encoded.Count - start)).ToArray();
            var (logps, _, _) = SequenceLogps(idx.Select(i => encoded[i].Chosen).Concat(idx.Select(i => encoded[i].Rejected)).ToList());
            var values = logps.to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (var k = 0; k < idx.Length; k++)
            {
                _refChosen[idx[k]] = values[k];
                _refRejected[idx[k]] = values[idx.Length + k];
            }
        }
        _referenceCount = encoded.Count;
    }

    /// <summary>Per-row sums of target log-probs [N], the chosen NLL sum (first half) and its token count.</summary>
    private (Tensor Logps, Tensor NllSum, long NllTokens) SequenceLogps(List<TrainingSequence> rows)
    {
        var (inputs, labels, _, target) = Batching.Collate(rows, _model.Tokenizer.PadId, _options.MaxSequenceLength, _model.Device);
        var logits = _model.Network.Forward(inputs);
        var tokenLogp = -nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), reduction: nn.Reduction.None)
            .view(labels.shape[0], labels.shape[1]);
        var mask = target.to(ScalarType.Float32);
        var perRow = (tokenLogp * mask).sum(1);
        var half = rows.Count / 2;
        var chosenMask = mask.narrow(0, 0, half);
        var nll = -(tokenLogp.narrow(0, 0, half) * chosenMask).sum();
        return (perRow, nll, (long)chosenMask.sum().item<float>());
    }

    // One optimizer batch: forward/backward per micro-batch (when training), metrics averaged over pairs.
    private Dictionary<string, double> Pass(List<(TrainingSequence Chosen, TrainingSequence Rejected)> encoded, int[] batch, bool train)
    {
        var nllTokens = batch.Sum(i => encoded[i].Chosen.Target.Count(t => t));
        double loss = 0, nllTotal = 0, rc = 0, rr = 0, acc = 0, lc = 0, lr = 0;
        var beta = _options.Beta;
        for (var start = 0; start < batch.Length; start += _options.MicroBatchSize)
        {
            using var scope = NewDisposeScope();
            var idx = batch.Skip(start).Take(_options.MicroBatchSize).ToArray();
            var (logps, nllSum, _) = SequenceLogps(idx.Select(i => encoded[i].Chosen).Concat(idx.Select(i => encoded[i].Rejected)).ToList());
            var policyChosen = logps.narrow(0, 0, idx.Length);
            var policyRejected = logps.narrow(0, idx.Length, idx.Length);
            var refChosen = tensor(idx.Select(i => (float)_refChosen![i]).ToArray(), device: _model.Device);
            var refRejected = tensor(idx.Select(i => (float)_refRejected![i]).ToArray(), device: _model.Device);
            var chosenReward = (policyChosen - refChosen) * beta;
            var rejectedReward = (policyRejected - refRejected) * beta;
            var dpo = -nn.functional.logsigmoid(chosenReward - rejectedReward).sum() / batch.Length;
            var nll = nllSum / Math.Max(1, nllTokens);
            var total = dpo + nll * _options.NllWeight;
            if (train)
            {
                total.backward();
            }
            loss += total.item<float>();
            nllTotal += nll.item<float>();
            rc += chosenReward.sum().item<float>();
            rr += rejectedReward.sum().item<float>();
            acc += chosenReward.gt(rejectedReward).sum().item<long>();
            lc += policyChosen.sum().item<float>();
            lr += policyRejected.sum().item<float>();
        }
        var n = (double)batch.Length;
        return new Dictionary<string, double>
        {
            ["loss"] = loss,
            ["rewards/chosen"] = rc / n,
            ["rewards/rejected"] = rr / n,
            ["rewards/accuracies"] = acc / n,
            ["rewards/margins"] = (rc - rr) / n,
            ["logps/chosen"] = lc / n,
            ["logps/rejected"] = lr / n,
            ["nll_loss"] = nllTotal,
        };
    }

    /// <summary>Saves model, optimizer, step and the reference log-probabilities.</summary>
    public void SaveCheckpoint(string directory)
    {
        var extra = new JsonObject();
        _loop.Save(directory, extra);
        if (_refChosen is not null)
        {
            var refs = new JsonObject
            {
                ["chosen"] = new JsonArray(_refChosen.Select(v => (JsonNode)v).ToArray()),
                ["rejected"] = new JsonArray(_refRejected!.Select(v => (JsonNode)v).ToArray()),
            };
            ModelCheckpoint.WriteText(Path.Combine(directory, ReferenceFile), refs.ToJsonString());
        }
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/>, reference log-probabilities included.</summary>
    public void Resume(string directory)
    {
        _loop.Load(directory);
        var path = Path.Combine(directory, ReferenceFile);
        if (!File.Exists(path))
        {
            throw new UserInputException($"{directory}: {ReferenceFile} missing: cannot resume DPO without the reference log-probabilities");
        }
        var refs = JsonNode.Parse(File.ReadAllText(path))!;
        _refChosen = refs["chosen"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        _refRejected = refs["rejected"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        _referenceCount = _refChosen.Length;
    }

    public void Dispose() => _loop.Dispose();
}
