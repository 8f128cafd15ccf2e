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

namespace SparOrleans.Simulator.Experiments;

/// <summary>
/// Experiment 1 (paper Figure 4, character-sequence task): one tiny actor, SFT'd on lowercase "Write N letters x"
/// answers until it counts imperfectly, then DPO from that same start on refinement pairs or on interfering pairs
/// (<see cref="LetterTask"/>). Defaults: 3 seeds; counts 1–<see cref="MaxCount"/> (12) over a–z, of which
/// <see cref="HeldOut"/> (80) combinations are never trained on; <see cref="SftSteps"/> 200 steps of 32 at 3e-3 (held-out accuracy ≈ 70%, room both ways) on a
/// d=<see cref="HiddenSize"/> (64), <see cref="Layers"/> (2)-layer model; <see cref="DpoSteps"/> 160 DPO steps of 16
/// pairs at <see cref="DpoLearningRate"/> (3e-4), β 0.1, measured every <see cref="EvalEvery"/> (20) steps.
/// </summary>
public sealed record PairKindsOptions(
    int Seeds = 3,
    int MaxCount = 12,
    int HeldOut = 80,
    int SftSteps = 200,
    int DpoSteps = 160,
    int EvalEvery = 20,
    int HiddenSize = 64,
    int Layers = 2,
    double DpoLearningRate = 3e-4,
    int Threads = 0) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Seeds), Seeds, 1, 100)
        .InRange(nameof(MaxCount), MaxCount, 2, 60)
        .InRange(nameof(HeldOut), HeldOut, 1, MaxCount * 26 - 16)
        .InRange(nameof(SftSteps), SftSteps, 1, 100_000)
        .InRange(nameof(DpoSteps), DpoSteps, 1, 100_000)
        .InRange(nameof(EvalEvery), EvalEvery, 1, Math.Max(1, DpoSteps))
        .Positive(nameof(HiddenSize), HiddenSize)
        .Require(HiddenSize % 4 == 0 && HiddenSize / 4 % 2 == 0, $"{nameof(HiddenSize)} ({HiddenSize}) must be a multiple of 8 (4 heads, even head size)")
        .Positive(nameof(Layers), Layers)
        .InRange(nameof(DpoLearningRate), DpoLearningRate, 1e-7, 1)
        .NonNegative(nameof(Threads), Threads);

    /// <summary>The DPO steps at which both kinds are measured: 0, every <see cref="EvalEvery"/>, and the last.</summary>
    public IReadOnlyList<int> Checkpoints =>
        [.. Enumerable.Range(0, DpoSteps / EvalEvery + 1).Select(i => i * EvalEvery).Append(DpoSteps).Distinct()];
}

/// <summary>
/// One pair kind's curve: at each checkpoint step, held-out accuracy and uppercase share over seeds; and the first
/// seed's final greedy answers to a few held-out prompts, to see what the numbers mean.
/// </summary>
public sealed record PairKindCurve(string Kind, IReadOnlyList<int> Steps, IReadOnlyList<SeedStat> Accuracy, IReadOnlyList<SeedStat> UppercaseShare,
    IReadOnlyList<PairKindExample> Examples);

public sealed record PairKindExample(string Instruction, string Answer, bool Follows);

public sealed record PairKindsResult(PairKindsOptions Options, IReadOnlyList<PairKindCurve> Curves, double Seconds)
{
    public PairKindCurve Curve(string kind) => Curves.Single(c => c.Kind == kind);
}

public static class PairKindsExperiment
{
    public const string Refinement = "refinement";
    public const string Interfering = "interfering";

    private static readonly IRoleFormat Format = RoleFormats.Compact;

    public static Task<PairKindsResult> RunAsync(PairKindsOptions options, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(options.Validated(), progress, cancellationToken), cancellationToken);

    private static PairKindsResult Run(PairKindsOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TorchRuntime.Configure(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        var kinds = new[] { Refinement, Interfering };
        var points = options.Checkpoints;
        // [kind][checkpoint][seed]
        var accuracy = kinds.ToDictionary(k => k, _ => points.Select(_ => new List<double>()).ToArray());
        var uppercase = kinds.ToDictionary(k => k, _ => points.Select(_ => new List<double>()).ToArray());
        var examples = kinds.ToDictionary(k => k, _ => new List<PairKindExample>());
        for (var seed = 0; seed < options.Seeds; seed++)
        {
            var combos = LetterTask.Combos(options.MaxCount, seed);
            var heldOut = combos.Take(options.HeldOut).ToList();
            var train = combos.Skip(options.HeldOut).ToList();
            using var start = TrainStart(options, seed, train, cancellationToken);
            var random = new Random(seed);
            var negatives = train.Select(c => LetterTask.Negative(c.Count, c.Letter, random)).ToList();
            foreach (var kind in kinds)
            {
                var pairs = train.Select((c, i) => kind == Refinement
                    ? LetterTask.RefinementPair(c.Count, c.Letter, negatives[i])
                    : LetterTask.InterferingPair(c.Count, c.Letter, negatives[i])).Select(ToEngine).ToList();
                using var model = start.Clone(kind);
                using var trainer = new DpoTrainer(model, new DpoOptions
                {
                    LearningRate = options.DpoLearningRate, Beta = 0.1, BatchSize = 16, MicroBatchSize = 16,
                    Epochs = 100_000, MaxSteps = options.DpoSteps, WarmupSteps = 0, Seed = seed,
                });
                for (var p = 0; p < points.Count; p++)
                {
                    if (points[p] > 0)
                    {
                        trainer.Train(pairs, cancellationToken: cancellationToken, stopAtStep: points[p]);
                    }
                    var answers = Answer(model, heldOut, options.MaxCount);
                    var follows = heldOut.Zip(answers).Select(x => LetterTask.Follows(x.Second, x.First.Count, x.First.Letter)).ToList();
                    var acc = follows.Average(f => f ? 1.0 : 0.0);
                    var upper = answers.Average(LetterTask.UppercaseShare);
                    accuracy[kind][p].Add(acc);
                    uppercase[kind][p].Add(upper);
                    if (seed == 0 && p == points.Count - 1)
                    {
                        examples[kind].AddRange(Enumerable.Range(0, Math.Min(ExampleCount, heldOut.Count)).Select(i =>
                            new PairKindExample(LetterTask.Instruction(heldOut[i].Count, heldOut[i].Letter), answers[i], follows[i])));
                    }
                    progress?.Report($"seed {seed} {kind} step {points[p]}: held-out accuracy {acc:P1}, uppercase share {upper:P1}");
                }
            }
        }
        var curves = kinds.Select(k => new PairKindCurve(k, points,
            accuracy[k].Select(v => SeedStat.Of(v)).ToList(), uppercase[k].Select(v => SeedStat.Of(v)).ToList(), examples[k])).ToList();
        return new PairKindsResult(options, curves, clock.Elapsed.TotalSeconds);
    }

    // The shared start of both kinds: SFT on lowercase answers, short enough that counting stays imperfect.
    private static LanguageModel TrainStart(PairKindsOptions options, int seed, IReadOnlyList<(int Count, char Letter)> train, CancellationToken cancellationToken)
    {
        var model = LanguageModel.CreateByteLevel(options.HiddenSize, options.Layers, 4, seed: seed + 1, version: "start");
        var data = train.Select(c => TrainingSequence.FromChat(model.Template, Format.ActorPrompt(LetterTask.Instruction(c.Count, c.Letter)),
            new string(c.Letter, c.Count))).ToList();
        using var sft = new SftTrainer(model, new SftOptions
        {
            LearningRate = 3e-3, Epochs = 100_000, MaxSteps = options.SftSteps, BatchSize = 32, MicroBatchSize = 32,
            WarmupSteps = Math.Min(10, options.SftSteps / 4), Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1, Seed = seed,
        });
        sft.Train(data, cancellationToken: cancellationToken);
        return model;
    }

    private const int ExampleCount = 6;

    private static List<string> Answer(LanguageModel model, IReadOnlyList<(int Count, char Letter)> heldOut, int maxCount)
    {
        var requests = heldOut.Select(c => new GenerationRequest(Format.ActorPrompt(LetterTask.Instruction(c.Count, c.Letter)))
        {
            Temperature = 0, MaxNewTokens = maxCount + 4,
        }).ToList();
        return [.. BatchGenerator.Generate(model, requests).Select(o => o.Text)];
    }

    private static EngineDpoPair ToEngine(CoreDpoPair pair) => new(Format.ActorPrompt(pair.Prompt), pair.Chosen, pair.Rejected);
}
