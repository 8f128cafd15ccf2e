using System.Diagnostics;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Models.Evaluation;
using SparOrleans.Models.Generation;
using SparOrleans.Verifiers.IfEval.Scoring;
using DpoPair = SparOrleans.Core.Datasets.DpoPair;
using EngineDpoPair = SparOrleans.Engine.Training.DpoPair;

namespace SparOrleans.Models.Runs;

/// <summary>
/// The model work of a run on real checkpoints (<see cref="RunSpec.Models"/>): M_0 and R_0 are the researcher's
/// models, copied into the run; the actor's DPO, the refiner's RFT and the baselines' steps train every weight, or a
/// LoRA adapter over M_0 (R_0) carried from version to version; evaluation is IFEval and LLMBar when the spec names
/// them. Every step loads its input, trains, and writes its output directory whole or not at all, so a repeated step
/// (a resumed run) gives the same directory.
/// </summary>
public sealed class ModelWorkshop : IModelWorkshop
{
    /// <summary>Per-step metrics (TRL names), inside the new model directory.</summary>
    public const string MetricsFile = "training_metrics.jsonl";

    // Training state and weights of other formats are not what a run trains or serves: copying a Llama-3 `original/`
    // folder or a .bin twin of the safetensors would double a bootstrap's disk for nothing.
    private static readonly string[] SkippedExtensions = [".bin", ".pth", ".pt", ".gguf", ".msgpack", ".h5", ".onnx", ".ckpt"];

    public Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        CopyAsync(Models(spec).ActorDirectory, actorDirectory, "M_0", cancellationToken);

    public Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        CopyAsync(Models(spec).RefinerDirectory, refinerDirectory, "R_0", cancellationToken);

    public Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var settings = ModelRunSettings.Of(spec);
        var format = Format(spec);
        if (spec.Pairs.TrainsActorBySft())
        {
            return TrainAsync(settings, fromDirectory, toDirectory, pairs.Count, "sft", progress, cancellationToken, (model, metrics, report) =>
            {
                var sequences = pairs.Select(p => TrainingSequence.FromChat(model.Template, format.ActorPrompt(p.Prompt), p.Chosen)).ToList();
                using var trainer = new SftTrainer(model, settings.RefinementSft with { Seed = spec.Seed, MetricsPath = metrics, Lora = null });
                return trainer.Train(sequences, report, cancellationToken);
            });
        }
        return TrainAsync(settings, fromDirectory, toDirectory, pairs.Count, "dpo", progress, cancellationToken, (model, metrics, report) =>
        {
            var engine = pairs.Select(p => new EngineDpoPair(format.ActorPrompt(p.Prompt), p.Chosen, p.Rejected)).ToList();
            using var trainer = new DpoTrainer(model, Dpo(settings.Dpo, spec, metrics));
            return trainer.Train(engine, report, cancellationToken);
        });
    }

    public Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var settings = ModelRunSettings.Of(spec);
        return TrainAsync(settings, fromDirectory, toDirectory, examples.Count, "rft", progress, cancellationToken, (model, metrics, report) =>
        {
            // The examples are already in the run's role format: the judge or refinement chat, then the refiner's answer.
            var sequences = examples.Select(e => TrainingSequence.FromChat(model.Template, e.Messages.Take(e.Messages.Count - 1).ToList(), e.Messages[^1].Content)).ToList();
            using var trainer = new SftTrainer(model, settings.Rft with { Seed = spec.Seed, MetricsPath = metrics, Lora = null });
            return trainer.Train(sequences, report, cancellationToken);
        });
    }

    public Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var settings = ModelRunSettings.Of(spec);
        return TrainAsync(settings, fromDirectory, toDirectory, judgePairs.Count, "judge-dpo", progress, cancellationToken, (model, metrics, report) =>
        {
            var engine = judgePairs.Select(p => new EngineDpoPair([new ChatMessage(ChatMessage.User, p.Prompt)], p.Chosen, p.Rejected)).ToList();
            using var trainer = new DpoTrainer(model, Dpo(settings.JudgeDpo, spec, metrics));
            return trainer.Train(engine, report, cancellationToken);
        });
    }

    public async Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var models = Models(spec);
        var settings = ModelRunSettings.Of(spec);
        var format = Format(spec);
        var clock = Stopwatch.StartNew();
        var relay = Relay(progress);
        TorchRuntime.Configure(settings.EffectiveThreads);
        var actor = NotEvaluated.Actor;
        if (models.IfEvalFile is { } ifeval)
        {
            var examples = IfEvalFiles.ReadInput(ifeval);
            examples = settings.EvalPrompts is { } n ? examples.Take(n).ToList() : examples;
            var responses = Path.Combine(spec.OutputDirectory, "eval", $"{Name(actorDirectory)}-ifeval-responses.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(responses)!);
            await using var runner = Load(settings, actorDirectory);
            var report = await IfEvalEvaluation.EvaluateAsync(runner, format, examples, settings.EvalMaxNewTokens, responses, relay, cancellationToken);
            var a = report.Accuracies;
            actor = new ActorScores(a.PromptStrict, a.InstructionStrict, a.PromptLoose, a.InstructionLoose);
        }
        var judge = NotEvaluated.Judge;
        if (models.LlmBarDirectory is { } llmbar)
        {
            var pairs = LlmBar.ReadDirectory(llmbar, settings.LlmBarPairs);
            await using var runner = Load(settings, refinerDirectory);
            var report = await LlmBar.EvaluateAsync(runner, Name(refinerDirectory), format, pairs, settings.LlmBarVotes,
                settings.Sampling.JudgeMaxTokens, spec.Seed, relay, cancellationToken);
            judge = new JudgeScores(report.Average.Accuracy, report.Average.F1);
        }
        return new EvaluationReport(actor, judge, clock.Elapsed.TotalSeconds);
    }

    private static ModelRunSpec Models(RunSpec spec) =>
        spec.Models ?? throw new ArgumentException($"Run {spec.RunId} is not a model run: it has no models.");

    private static IRoleFormat Format(RunSpec spec) => RoleFormats.ByName(spec.RoleFormat);

    private static string Name(string directory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));

    private static ModelRunner Load(ModelRunSettings settings, string directory) =>
        ModelRunner.Load(directory, settings.Device, settings.GenerationBatch, settings.EffectiveThreads, Dtype(settings));

    private static TorchSharp.torch.ScalarType? Dtype(ModelRunSettings settings) =>
        settings.Dtype is { } name ? ModelCheckpoint.ParseDtype(name) : null;

    /// <summary>The DPO options of a step: its reference is the model it starts from, adapters on (M_{t-1}).</summary>
    private static DpoOptions Dpo(DpoOptions options, RunSpec spec, string metrics) =>
        options with { Seed = spec.Seed, MetricsPath = metrics, Lora = null, ReferenceWithAdapters = true };

    private static Task<StepReport> CopyAsync(string source, string target, string what, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var clock = Stopwatch.StartNew();
        var files = Copy(source, target, cancellationToken);
        return new StepReport(clock.Elapsed.TotalSeconds, 0, new Dictionary<string, double>(), $"{what}: {source} ({files} files copied)");
    }, cancellationToken);

    /// <summary>Copies the model files of <paramref name="source"/> into <paramref name="target"/>, whole or not at all; returns how many.</summary>
    private static int Copy(string source, string target, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(source).Where(f => !SkippedExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).ToList();
        AtomicDirectory.Write(target, temp =>
        {
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
            }
        });
        return files.Count;
    }

    /// <summary>
    /// Loads <paramref name="from"/> (a full model, or an adapter over its base), attaches the run's LoRA adapters when
    /// it trains by LoRA and has none yet, trains, and writes <paramref name="to"/> whole: the full model, or the
    /// adapter with M_0 (R_0) as its base. Without data the input is copied unchanged.
    /// </summary>
    private static Task<StepReport> TrainAsync(ModelRunSettings settings, string from, string to, int count, string what,
        IProgress<StepProgressInfo> progress, CancellationToken cancellationToken,
        Func<LanguageModel, string, IProgress<TrainingProgress>?, TrainingSummary> train) => Task.Run(() =>
    {
        var clock = Stopwatch.StartNew();
        if (count == 0)
        {
            Copy(from, to, cancellationToken);
            return new StepReport(clock.Elapsed.TotalSeconds, 0, new Dictionary<string, double>(), $"no {what} data: {Name(to)} is {Name(from)} unchanged");
        }
        TorchRuntime.Configure(settings.EffectiveThreads);
        using var model = ModelCheckpoint.LoadModelOrAdapter(from, settings.Device, Name(to), Dtype(settings));
        var baseDirectory = LoraAdapters.BaseOf(from) ?? Path.GetFullPath(from);
        if (settings.Lora is { } lora && LoraAdapters.Options(model.Network) is null)
        {
            LoraAdapters.Attach(model.Network, lora);
        }
        var byLora = LoraAdapters.Options(model.Network) is not null;
        TrainingSummary summary = null!;
        AtomicDirectory.Write(to, temp =>
        {
            summary = train(model, Path.Combine(temp, MetricsFile), StepProgress.Training(Relay(progress), what));
            if (byLora)
            {
                LoraAdapters.Save(model.Network, temp, baseDirectory);
            }
            else
            {
                ModelCheckpoint.Save(model, temp);
            }
        });
        var metrics = summary.LastMetrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
        return new StepReport(clock.Elapsed.TotalSeconds, summary.Steps, metrics,
            $"{what}: {summary.Steps} steps on {count} examples{(byLora ? " (LoRA)" : "")}, loss {metrics.GetValueOrDefault("loss"):G4}");
    }, cancellationToken);

    private static IProgress<StepProgress> Relay(IProgress<StepProgressInfo> progress) =>
        new SynchronousProgress<StepProgress>(p => progress.Report(new StepProgressInfo(p.Phase, p.Done, p.Total, p.Loss)));
}

/// <summary>The figures of a model run without an evaluation set for a role: NaN, shown as "-" and written as null.</summary>
public static class NotEvaluated
{
    public static ActorScores Actor { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN);

    public static JudgeScores Judge { get; } = new(double.NaN, double.NaN);
}
