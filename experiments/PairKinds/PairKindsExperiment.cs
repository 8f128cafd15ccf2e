using System.Diagnostics;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Core.Simulation;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;
using CoreDpoPair = SparOrleans.Core.Datasets.DpoPair;
using EngineDpoPair = SparOrleans.Engine.Training.DpoPair;

using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;

namespace SparOrleans.Experiments;

/// <summary>
/// Experiment 1 (paper Figure 4, character-sequence task): one tiny actor, SFT'd on lowercase "Write N letters x"
/// answers until it counts imperfectly, then DPO from that same start on refinement pairs or on interfering pairs
/// (<see cref="LetterTask"/>). Defaults: 5 seeds; counts 1–<see cref="MaxCount"/> (12) over a–z, of which
/// <see cref="HeldOut"/> (80) combinations are never trained on; <see cref="SftSteps"/> steps of 32 at 3e-3 (default: the task's <see cref="IPairKindsTask{TItem}.StartSftSteps"/>, where held-out accuracy leaves room both ways) on a
/// d=<see cref="HiddenSize"/> (64), <see cref="Layers"/> (2)-layer model; <see cref="DpoSteps"/> 160 DPO steps of 16
/// pairs at <see cref="DpoLearningRate"/> (default: the task's <see cref="IPairKindsTask{TItem}.DpoLearningRate"/>), β 0.1, measured every <see cref="EvalEvery"/> (20) steps.
/// </summary>
public sealed record PairKindsOptions(
    int Seeds = 5,
    int MaxCount = 12,
    int HeldOut = 80,
    int? SftSteps = null,
    int DpoSteps = 160,
    int EvalEvery = 20,
    int HiddenSize = 64,
    int Layers = 2,
    double? DpoLearningRate = null,
    int Threads = 0) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .InRange(nameof(MaxCount), MaxCount, 2, 60)
        .InRange(nameof(HeldOut), HeldOut, 1, MaxCount * 26 - 16)
        .Require(SftSteps is null or (>= 1 and <= 100_000), $"{nameof(SftSteps)} must be between 1 and 100000 (got {SftSteps})")
        .InRange(nameof(DpoSteps), DpoSteps, 1, 100_000)
        .InRange(nameof(EvalEvery), EvalEvery, 1, Math.Max(1, DpoSteps))
        .Positive(nameof(HiddenSize), HiddenSize)
        .Require(HiddenSize % 4 == 0 && HiddenSize / 4 % 2 == 0, $"{nameof(HiddenSize)} ({HiddenSize}) must be a multiple of 8 (4 heads, even head size)")
        .Positive(nameof(Layers), Layers)
        .Require(DpoLearningRate is null or (>= 1e-7 and <= 1), $"{nameof(DpoLearningRate)} must be between 1e-7 and 1 (got {DpoLearningRate})")
        .NonNegative(nameof(Threads), Threads);

    /// <summary>The DPO steps at which both kinds are measured: 0, every <see cref="EvalEvery"/>, and the last.</summary>
    public IReadOnlyList<int> Checkpoints =>
        [.. Enumerable.Range(0, DpoSteps / EvalEvery + 1).Select(i => i * EvalEvery).Append(DpoSteps).Distinct()];
}

/// <summary>
/// One pair kind's curve: at each checkpoint step, held-out accuracy and uppercase share over seeds; and the first
/// seed's final greedy answers to a few held-out prompts, to see what the numbers mean.
/// </summary>
public sealed record PairKindCurve(string Kind, IReadOnlyList<int> Steps, IReadOnlyList<SeedStat> Accuracy, IReadOnlyList<SeedStat> Factor,
    IReadOnlyList<PairKindExample> Examples);

public sealed record PairKindExample(string Instruction, string Answer, bool Follows);

/// <param name="Task">The task's name (<c>letters</c>, <c>story</c>).</param>
/// <param name="FactorName">What each curve's <see cref="PairKindCurve.Factor"/> measures; null when the task has no factor measure.</param>
/// <param name="SftSteps">The start's SFT steps (the options', else the task's default).</param>
/// <param name="DpoLearningRate">The DPO learning rate (the options', else the task's default).</param>
public sealed record PairKindsResult(PairKindsOptions Options, IReadOnlyList<PairKindCurve> Curves, double Seconds, string Task, string? FactorName, int SftSteps,
    double DpoLearningRate)
{
    public PairKindCurve Curve(string kind) => Curves.Single(c => c.Kind == kind);
}

public static class PairKindsExperiment
{
    public const string Refinement = "refinement";
    public const string Interfering = "interfering";

    private static readonly IRoleFormat Format = RoleFormats.Compact;

    /// <summary>The character-sequence task (the default).</summary>
    public static Task<PairKindsResult> RunAsync(PairKindsOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        RunAsync(options, new LetterPairTask(options.MaxCount), progress, cancellationToken);

    public static Task<PairKindsResult> RunAsync<TItem>(PairKindsOptions options, IPairKindsTask<TItem> task, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(options.Validated(), task, progress, cancellationToken), cancellationToken);

    private static PairKindsResult Run<TItem>(PairKindsOptions options, IPairKindsTask<TItem> task, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TorchRuntime.Configure(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        var kinds = new[] { Refinement, Interfering };
        var points = options.Checkpoints;
        // [kind][checkpoint][seed]
        var accuracy = kinds.ToDictionary(k => k, _ => points.Select(_ => new List<double>()).ToArray());
        var factor = kinds.ToDictionary(k => k, _ => points.Select(_ => new List<double>()).ToArray());
        var examples = kinds.ToDictionary(k => k, _ => new List<PairKindExample>());
        for (var seed = 0; seed < options.Seeds; seed++)
        {
            var items = task.Items(seed);
            var heldOut = items.Take(options.HeldOut).ToList();
            var train = items.Skip(options.HeldOut).ToList();
            using var start = TrainStart(options, task, seed, train, cancellationToken);
            var random = new Random(seed);
            var negatives = train.Select(c => task.Negative(c, random)).ToList();
            // Its own stream, so the negatives do not depend on whether a task's interfering pairs draw.
            var interferingRandom = new Random(seed + 1_000);
            var pairsByKind = new Dictionary<string, List<EngineDpoPair>>
            {
                [Refinement] = train.Select((c, i) => ToEngine(task.RefinementPair(c, negatives[i]))).ToList(),
                [Interfering] = train.Select((c, i) => ToEngine(task.InterferingPair(c, negatives[i], interferingRandom))).ToList(),
            };
            foreach (var kind in kinds)
            {
                var pairs = pairsByKind[kind];
                using var model = start.Clone(kind);
                using var trainer = new DpoTrainer(model, new DpoOptions
                {
                    LearningRate = options.DpoLearningRate ?? task.DpoLearningRate, Beta = 0.1, BatchSize = 16, MicroBatchSize = 16,
                    Epochs = 100_000, MaxSteps = options.DpoSteps, WarmupSteps = 0, Seed = seed,
                });
                for (var p = 0; p < points.Count; p++)
                {
                    if (points[p] > 0)
                    {
                        trainer.Train(pairs, cancellationToken: cancellationToken, stopAtStep: points[p]);
                    }
                    var answers = Answer(model, task, heldOut);
                    var follows = heldOut.Zip(answers).Select(x => task.Follows(x.First, x.Second)).ToList();
                    var acc = follows.Average(f => f ? 1.0 : 0.0);
                    var shown = heldOut.Zip(answers).Average(x => task.Factor(x.First, x.Second));
                    accuracy[kind][p].Add(acc);
                    factor[kind][p].Add(shown);
                    if (seed == 0 && p == points.Count - 1)
                    {
                        examples[kind].AddRange(Enumerable.Range(0, Math.Min(ExampleCount, heldOut.Count)).Select(i =>
                            new PairKindExample(task.Instruction(heldOut[i]), answers[i], follows[i])));
                    }
                    progress?.Report($"{task.Name} seed {seed} {kind} step {points[p]}: held-out accuracy {acc:P1}" +
                        (task.FactorName is { } name ? $", {name} {shown:P1}" : ""));
                }
            }
        }
        var curves = kinds.Select(k => new PairKindCurve(k, points,
            accuracy[k].Select(v => SeedStat.Of(v)).ToList(), factor[k].Select(v => SeedStat.Of(v)).ToList(), examples[k])).ToList();
        return new PairKindsResult(options, curves, clock.Elapsed.TotalSeconds, task.Name, task.FactorName, options.SftSteps ?? task.StartSftSteps,
            options.DpoLearningRate ?? task.DpoLearningRate);
    }

    // The shared start of both kinds: SFT on the task's answers, short enough that the task stays imperfect.
    private static LanguageModel TrainStart<TItem>(PairKindsOptions options, IPairKindsTask<TItem> task, int seed, IReadOnlyList<TItem> train,
        CancellationToken cancellationToken)
    {
        var model = LanguageModel.CreateByteLevel(options.HiddenSize, options.Layers, 4, seed: seed + 1, version: "start");
        var steps = options.SftSteps ?? task.StartSftSteps;
        var random = new Random(seed + 2_000);
        // One fresh answer per example (a story's body is drawn anew each time), the training items in turn.
        var data = Enumerable.Range(0, Math.Max(train.Count, steps * 32)).Select(i => train[i % train.Count])
            .Select(c => TrainingSequence.FromChat(model.Template, Format.ActorPrompt(task.Instruction(c)), task.Answer(c, random))).ToList();
        using var sft = new SftTrainer(model, new SftOptions
        {
            LearningRate = 3e-3, Epochs = 100_000, MaxSteps = steps, BatchSize = 32, MicroBatchSize = 32,
            WarmupSteps = Math.Min(10, steps / 4), Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1, Seed = seed,
        });
        sft.Train(data, cancellationToken: cancellationToken);
        return model;
    }

    private const int ExampleCount = 6;

    private static List<string> Answer<TItem>(LanguageModel model, IPairKindsTask<TItem> task, IReadOnlyList<TItem> heldOut)
    {
        var requests = heldOut.Select(c => new GenerationRequest(Format.ActorPrompt(task.Instruction(c)))
        {
            Temperature = 0, MaxNewTokens = task.MaxNewTokens,
        }).ToList();
        return [.. BatchGenerator.Generate(model, requests).Select(o => o.Text)];
    }

    private static EngineDpoPair ToEngine(CoreDpoPair pair) => new(Format.ActorPrompt(pair.Prompt), pair.Chosen, pair.Rejected);
}
