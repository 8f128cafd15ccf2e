using System.Diagnostics;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;
using DpoPair = SparOrleans.Core.Datasets.DpoPair;
using EngineDpoPair = SparOrleans.Engine.Training.DpoPair;

namespace SparOrleans.Simulator;

/// <summary>
/// What one training step between iterations did. <paramref name="Copied"/> is true when there was no data and
/// the model was copied unchanged (<paramref name="Message"/> says so). <paramref name="MetricsPath"/> is the
/// JSONL of per-step metrics (TRL names) inside the new model directory; null when nothing was trained.
/// Non-finite metric values are left out of <paramref name="LastMetrics"/> so the record serialises as JSON.
/// </summary>
public sealed record TrainingStepResult(
    string ModelDir,
    int Examples,
    int Steps,
    IReadOnlyDictionary<string, double> LastMetrics,
    bool Copied,
    string? MetricsPath,
    double Seconds,
    string Message);

/// <summary>The training between SPaR iterations: the actor's DPO on refinement pairs and the refiner's RFT.</summary>
public static class IterationTraining
{
    /// <summary>Name of the metrics file written inside the new model directory.</summary>
    public const string MetricsFile = "training_metrics.jsonl";

    private static readonly IRoleFormat Format = RoleFormats.Compact;

    /// <summary>
    /// DPO of the actor in <paramref name="actorDir"/> on <paramref name="pairs"/> (prompt = the instruction, in the
    /// compact actor format); the reference model is the starting actor. Saves the result into <paramref name="newDir"/>
    /// under <paramref name="version"/> (default: the directory's name).
    /// </summary>
    public static Task<TrainingStepResult> TrainActorDpo(string actorDir, string newDir, IReadOnlyList<DpoPair> pairs, DpoOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, int threads = 0, string? version = null, string device = "cpu") =>
        Run(actorDir, newDir, pairs.Count, "dpo", progress, threads, version, device, cancellationToken, (model, metricsPath) =>
        {
            var engine = pairs.Select(p => new EngineDpoPair(Format.ActorPrompt(p.Prompt), p.Chosen, p.Rejected)).ToList();
            using var trainer = new DpoTrainer(model, options with { MetricsPath = metricsPath });
            return trainer.Train(engine, StepProgress.Training(progress, "dpo"), cancellationToken);
        });

    /// <summary>
    /// RFT (SFT) of the refiner in <paramref name="refinerDir"/> on <paramref name="examples"/>, judgments weighted
    /// as in the bootstrap (<paramref name="verdictWeight"/> on the deciding bytes); saves into <paramref name="newDir"/>.
    /// </summary>
    public static Task<TrainingStepResult> TrainRefinerRft(string refinerDir, string newDir, IReadOnlyList<SftExample> examples, SftOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, int threads = 0, string? version = null,
        double verdictWeight = 4, string device = "cpu") =>
        Run(refinerDir, newDir, examples.Count, "rft", progress, threads, version, device, cancellationToken, (model, metricsPath) =>
        {
            var sequences = examples.Select(e => RefinerSequences.Encode(model.Template, e, verdictWeight)).ToList();
            using var trainer = new SftTrainer(model, options with { MetricsPath = metricsPath });
            return trainer.Train(sequences, StepProgress.Training(progress, "rft"), cancellationToken);
        });

    /// <summary>The same as the other overload with the options' RFT settings, threads and RFT verdict weight.</summary>
    public static Task<TrainingStepResult> TrainRefinerRft(string refinerDir, string newDir, IReadOnlyList<SftExample> examples, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, string? version = null) =>
        TrainRefinerRft(refinerDir, newDir, examples, options.Rft with { Seed = options.Seed }, progress, cancellationToken,
            options.EffectiveThreads, version, options.RftVerdictWeight, options.Device);

    /// <summary>
    /// The SELF baseline's actor step: SFT of the actor on each pair's chosen (refined) response alone, with the
    /// options' <see cref="SimulatorOptions.RefinementSft"/>; the rejected side is unused.
    /// </summary>
    public static Task<TrainingStepResult> TrainActorSft(string actorDir, string newDir, IReadOnlyList<DpoPair> refined, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, string? version = null) =>
        Run(actorDir, newDir, refined.Count, "sft", progress, options.EffectiveThreads, version, options.Device, cancellationToken, (model, metricsPath) =>
        {
            var sequences = refined.Select(p => TrainingSequence.FromChat(model.Template, Format.ActorPrompt(p.Prompt), p.Chosen)).ToList();
            using var trainer = new SftTrainer(model, options.RefinementSft with { Seed = options.Seed, MetricsPath = metricsPath });
            return trainer.Train(sequences, StepProgress.Training(progress, "sft"), cancellationToken);
        });

    /// <summary>
    /// Meta-rewarding's judge step: DPO of the refiner on judge-preference pairs, whose prompt is the text of the
    /// compact judge prompt (one user turn), with the options' <see cref="SimulatorOptions.JudgeDpo"/>; the reference
    /// model is the starting refiner.
    /// </summary>
    public static Task<TrainingStepResult> TrainRefinerJudgeDpo(string refinerDir, string newDir, IReadOnlyList<DpoPair> judgePairs, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, string? version = null) =>
        Run(refinerDir, newDir, judgePairs.Count, "judge-dpo", progress, options.EffectiveThreads, version, options.Device, cancellationToken, (model, metricsPath) =>
        {
            var engine = judgePairs.Select(p => new EngineDpoPair([new ChatMessage(ChatMessage.User, p.Prompt)], p.Chosen, p.Rejected)).ToList();
            using var trainer = new DpoTrainer(model, options.JudgeDpo with { Seed = options.Seed, MetricsPath = metricsPath });
            return trainer.Train(engine, StepProgress.Training(progress, "judge-dpo"), cancellationToken);
        });

    /// <summary>The same as the other overload with the options' DPO settings and threads.</summary>
    public static Task<TrainingStepResult> TrainActorDpo(string actorDir, string newDir, IReadOnlyList<DpoPair> pairs, SimulatorOptions options,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default, string? version = null) =>
        TrainActorDpo(actorDir, newDir, pairs, options.Dpo with { Seed = options.Seed }, progress, cancellationToken, options.EffectiveThreads, version, options.Device);

    // The frozen judge set travels from R_0 to every refiner trained from it, so each R_t is scored on R_0's cases.
    private static void CarryForward(string fromDir, string toDir)
    {
        var frozen = Path.Combine(fromDir, FrozenJudgeSet.FileName);
        if (File.Exists(frozen))
        {
            File.Copy(frozen, Path.Combine(toDir, FrozenJudgeSet.FileName), overwrite: true);
        }
    }

    private static Task<TrainingStepResult> Run(string fromDir, string newDir, int count, string what, IProgress<StepProgress>? progress,
        int threads, string? version, string device, CancellationToken cancellationToken, Func<LanguageModel, string, TrainingSummary> train) =>
        Task.Run(() =>
        {
            TorchRuntime.Configure(threads > 0 ? threads : Environment.ProcessorCount);
            var clock = Stopwatch.StartNew();
            var name = version ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(newDir)));
            using var model = ModelCheckpoint.Load(fromDir, device, name);
            model.Version = name;
            if (count == 0)
            {
                Bootstrap.SaveAtomically(model, newDir, temp => CarryForward(fromDir, temp));
                progress?.Report(new StepProgress(what, 0, 0));
                return new TrainingStepResult(newDir, 0, 0, new Dictionary<string, double>(), true, null, clock.Elapsed.TotalSeconds,
                    $"no {what} data: the model was copied unchanged as {name}");
            }
            var full = Path.GetFullPath(newDir);
            TrainingSummary summary = null!;
            AtomicDirectory.Write(full, temp =>
            {
                summary = train(model, Path.Combine(temp, MetricsFile));
                ModelCheckpoint.Save(model, temp);
                CarryForward(fromDir, temp);
            });
            var metrics = summary.LastMetrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value);
            return new TrainingStepResult(newDir, count, summary.Steps, metrics, false, Path.Combine(full, MetricsFile),
                clock.Elapsed.TotalSeconds, $"{what}: {summary.Steps} steps on {count} examples, loss {Bootstrap.Loss(summary):G4}");
        }, cancellationToken);
}
