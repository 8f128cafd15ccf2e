using Orleans.Concurrency;
using SparOrleans.Core.Datasets;

namespace SparOrleans.Interfaces.Runs;

/// <summary>What a training step did: its duration, optimizer steps, and its last logged metrics (TRL names).</summary>
[GenerateSerializer, Immutable, Alias("spar.step-report")]
public sealed record StepReport(
    [property: Id(0)] double Seconds,
    [property: Id(1)] int Steps,
    [property: Id(2)] IReadOnlyDictionary<string, double> LastMetrics,
    [property: Id(3)] string Message);

/// <summary>The held-out evaluation of a pair of models.</summary>
[GenerateSerializer, Immutable, Alias("spar.evaluation-report")]
public sealed record EvaluationReport(
    [property: Id(0)] ActorScores Actor,
    [property: Id(1)] JudgeScores Refiner,
    [property: Id(2)] double Seconds);

/// <summary>Live progress of the step a trainer is running, for progress bars.</summary>
[GenerateSerializer, Immutable, Alias("spar.step-progress")]
public sealed record StepProgressInfo(
    [property: Id(0)] string Step,
    [property: Id(1)] int Done,
    [property: Id(2)] int Total,
    [property: Id(3)] double? Loss);

/// <summary>
/// Training and evaluation of a run's models (key = run id), on a GPU-role silo: bootstrap of M_0/R_0, the actor's
/// DPO (or SFT) and the refiner's RFT (and judge DPO) between iterations, and the held-out evaluation. Checkpoints are written to the
/// directories given, where every GPU-role silo can load them.
/// </summary>
[Alias("spar.trainer")]
public interface ITrainerGrain : IGrainWithStringKey
{
    [ResponseTimeout("04:00:00")]
    Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory);

    [ResponseTimeout("04:00:00")]
    Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory);

    [ResponseTimeout("04:00:00")]
    Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs);

    [ResponseTimeout("04:00:00")]
    Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples);

    /// <summary>Meta-rewarding's judge training: DPO of the refiner on judge-preference pairs (prompt = the judge prompt's text).</summary>
    [ResponseTimeout("04:00:00")]
    Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs);

    [ResponseTimeout("04:00:00")]
    Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory);

    [AlwaysInterleave]
    Task<StepProgressInfo?> GetProgressAsync();
}
