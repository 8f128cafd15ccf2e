using System.Diagnostics;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Text;
using SparOrleans.Engine.Training;
using SparOrleans.World.Composition;

namespace SparOrleans.Simulator;

/// <summary>What a bootstrap step produced: the model directory, its data, the training it took.</summary>
/// <param name="FinalLoss">The last step's loss; null when no step ran (every value stays JSON-serialisable).</param>
/// <param name="Counts">Data counts by name (e.g. <c>examples</c>, <c>own_yes</c>, <c>teacher_no</c>, <c>refinements</c>).</param>
/// <param name="Cached">True when the model was copied from a <see cref="BootstrapCache"/> (the figures are those of its training).</param>
public sealed record BootstrapResult(
    string ModelDir,
    int Examples,
    int Steps,
    double? FinalLoss,
    double DataSeconds,
    double TrainSeconds,
    double SampleSeconds,
    IReadOnlyDictionary<string, int> Counts,
    bool Cached = false)
{
    public double TotalSeconds => DataSeconds + TrainSeconds + SampleSeconds;
}

/// <summary>
/// The bootstrap of paper §2.2 in the simulated world. M_0: SFT of a fresh byte-level model on teacher answers to
/// fresh train prompts. R_0 (§2.2.2): M_0 samples its own answers on thousands of fresh train prompts; the teacher
/// judges them (evidence first) and minimally refines the failures; R_0 is SFT'd mostly on those judgments (at the
/// options' Yes share) and refinements, topped up with teacher answers and near misses
/// (<see cref="SimulatorOptions.RefinerMix"/>), starting from M_0's weights by default
/// (<see cref="SimulatorOptions.RefinerInit"/>). M_0 also samples the judge's frozen evaluation set
/// (<see cref="FrozenJudgeSet"/>), saved with R_0.
/// </summary>
public static class Bootstrap
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    // Seed salts keep the data streams of each step apart.
    private const int ActorPromptSalt = 101, ActorAnswerSalt = 102, RefinerPromptSalt = 201, TeacherPromptSalt = 202, RefinerDataSalt = 203, FrozenSetSalt = 204;

    /// <summary>Trains M_0 and saves it (HF layout) into <paramref name="actorDir"/>.</summary>
    public static Task<BootstrapResult> TrainActorAsync(SimulatorOptions options, string actorDir,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options = options.Validated().ForBootstrap();
        return Task.Run(() =>
        {
            TorchRuntime.Configure(options.EffectiveThreads);
            var clock = Stopwatch.StartNew();
            var count = options.ActorExamples;
            progress?.Report(new StepProgress("actor-data", 0, count));
            var prompts = BootstrapData.Prompts(count, WorldSeed.Mix(options.Seed, ActorPromptSalt), WorldSplit.Train,
                options.Composer, options.EffectiveThreads, cancellationToken);
            var answers = BootstrapData.Answers(prompts, WorldSeed.Mix(options.Seed, ActorAnswerSalt), options.EffectiveThreads);
            progress?.Report(new StepProgress("actor-data", count, count));
            var dataSeconds = clock.Elapsed.TotalSeconds;
            IChatTemplate template = options.SubwordMerges > 0
                ? new CompactChatTemplate(SubwordVocabulary.Train(prompts, answers, options.SubwordMerges))
                : new CompactChatTemplate(ByteTokenizer.Instance);
            using var model = LanguageModel.Create(template, options.HiddenSize, options.Layers, options.Heads,
                seed: options.Seed, device: options.Device, version: "M0");
            var sequences = prompts.Select((p, i) => TrainingSequence.FromChat(model.Template, Format.ActorPrompt(p.Text), answers[i])).ToList();
            var summary = Train(model, sequences, options.ActorSft with { Seed = options.Seed }, progress, "actor-sft", cancellationToken);
            SaveAtomically(model, actorDir);
            return new BootstrapResult(actorDir, count, summary.Steps, Loss(summary), dataSeconds, summary.Elapsed.TotalSeconds, 0,
                new Dictionary<string, int> { ["examples"] = count, ["tokens"] = (int)summary.TokensSeen });
        }, cancellationToken);
    }

    /// <summary>Trains R_0 from M_0 in <paramref name="actorDir"/> and saves it into <paramref name="refinerDir"/>.</summary>
    public static async Task<BootstrapResult> TrainRefinerAsync(SimulatorOptions options, string actorDir, string refinerDir,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options = options.Validated().ForBootstrap();
        var threads = options.EffectiveThreads;
        var clock = Stopwatch.StartNew();
        var prompts = await Task.Run(() => BootstrapData.Prompts(options.RefinerSamplePrompts, WorldSeed.Mix(options.Seed, RefinerPromptSalt),
            WorldSplit.Train, options.Composer, threads, cancellationToken), cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> samples;
        FrozenJudgeSet frozen;
        await using (var actor = SimulatorModels.Load(actorDir, options))
        {
            samples = await actor.GenerateAllAsync(prompts.Select(p => Format.ActorPrompt(p.Text)).ToList(), options.RefinerSampleTemperature,
                options.ActorMaxNewTokens, WorldSeed.Mix(options.Seed, RefinerPromptSalt), progress, "refiner-sampling", cancellationToken).ConfigureAwait(false);
            frozen = await FrozenJudgeSet.SampleAsync(actor, options, FrozenSetSeed(options), progress, cancellationToken).ConfigureAwait(false);
        }
        var sampleSeconds = clock.Elapsed.TotalSeconds;
        return await Task.Run(() =>
        {
            TorchRuntime.Configure(threads);
            clock.Restart();
            var own = prompts.Select((p, i) => new PromptResponse(p, samples[i], p.Follows(samples[i]))).ToList();
            var mix = options.RefinerMix;
            var plan = BootstrapData.Plan(own.Count(s => s.Follows), own.Count(s => !s.Follows), mix);
            progress?.Report(new StepProgress("refiner-data", 0, plan.Total));
            var teacherPrompts = BootstrapData.Prompts(BootstrapData.TeacherPromptsFor(plan),
                WorldSeed.Mix(options.Seed, TeacherPromptSalt), WorldSplit.Train, options.Composer, threads, cancellationToken);
            var set = BootstrapData.RefinerSet(own, teacherPrompts, mix, WorldSeed.Mix(options.Seed, RefinerDataSalt), threads);
            progress?.Report(new StepProgress("refiner-data", set.Examples.Count, set.Examples.Count));
            var dataSeconds = clock.Elapsed.TotalSeconds;
            using var model = options.RefinerInit == RefinerInit.FromActor
                ? ModelCheckpoint.Load(actorDir, options.Device, "R0")
                : FreshWithActorVocabulary(actorDir, options);
            model.Version = "R0";
            var sequences = set.Examples.Select(e => RefinerSequences.Encode(model.Template, e, options.VerdictWeight)).ToList();
            var summary = Train(model, sequences, RefinerSftFor(options.RefinerSft, sequences.Count) with { Seed = options.Seed + 1 }, progress, "refiner-sft", cancellationToken);
            SaveAtomically(model, refinerDir, frozen.Save);
            var counts = new Dictionary<string, int>
            {
                ["examples"] = set.Examples.Count,
                ["own_samples"] = own.Count,
                ["own_samples_following"] = own.Count(s => s.Follows),
                ["own_yes"] = set.OwnYes,
                ["own_no"] = set.OwnNo,
                ["own_refinements"] = set.OwnRefinements,
                ["teacher_yes"] = set.TeacherYes,
                ["teacher_no"] = set.TeacherNo,
                ["teacher_refinements"] = set.TeacherRefinements,
                ["frozen_judge_cases"] = frozen.Cases.Count,
                ["frozen_judge_following"] = frozen.Cases.Count(c => c.Follows),
                ["tokens"] = (int)summary.TokensSeen,
            };
            return new BootstrapResult(refinerDir, set.Examples.Count, summary.Steps, Loss(summary), dataSeconds,
                summary.Elapsed.TotalSeconds, sampleSeconds, counts);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The seed of M_0's samples for the frozen judge set (<see cref="FrozenJudgeSet.SampleAsync"/>) under the bootstrap's options.</summary>
    public static int FrozenSetSeed(SimulatorOptions options) => WorldSeed.Mix(options.ForBootstrap().Seed, FrozenSetSalt);

    /// <summary>
    /// R_0's SFT at its step budget: its set is as large as M_0's samples make it (not <c>MaxSteps × BatchSize</c>), so
    /// the epochs are raised until <c>MaxSteps</c> is reached.
    /// </summary>
    internal static SftOptions RefinerSftFor(SftOptions sft, int examples) =>
        sft.MaxSteps > 0 && examples > 0
            ? sft with { Epochs = Math.Max(sft.Epochs, (int)Math.Ceiling((double)sft.MaxSteps * sft.BatchSize / examples)) }
            : sft;

    // A fresh R_0 still speaks M_0's vocabulary: the loop hands the refiner the actor's responses token for token.
    private static LanguageModel FreshWithActorVocabulary(string actorDir, SimulatorOptions options)
    {
        using var actor = ModelCheckpoint.Load(actorDir, "cpu");
        return LanguageModel.Create(actor.Template, options.HiddenSize, options.Layers, options.Heads, seed: options.Seed + 1,
            device: options.Device, version: "R0");
    }

    internal static TrainingSummary Train(LanguageModel model, IReadOnlyList<TrainingSequence> sequences, SftOptions sft,
        IProgress<StepProgress>? progress, string phase, CancellationToken cancellationToken)
    {
        using var trainer = new SftTrainer(model, sft);
        return trainer.Train(sequences, StepProgress.Training(progress, phase), cancellationToken);
    }

    internal static double? Loss(TrainingSummary summary) =>
        summary.LastMetrics.TryGetValue("loss", out var loss) && double.IsFinite(loss) ? loss : null;

    /// <summary>Saves into a sibling temporary directory, then moves it into place: never a half-written model.</summary>
    internal static void SaveAtomically(LanguageModel model, string directory, Action<string>? alsoWrite = null) =>
        AtomicDirectory.Write(directory, temp =>
        {
            ModelCheckpoint.Save(model, temp);
            alsoWrite?.Invoke(temp);
        });
}
