using Orleans.Concurrency;
using SparOrleans.Core.Datasets;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// What to run: a SPaR run in the simulated world. <see cref="SimulatorOptionsJson"/> carries every size and budget
/// (the simulator's options record, as JSON, so the wire contract does not change when a knob is added).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.run-spec")]
public sealed record RunSpec(
    [property: Id(0)] string RunId,
    [property: Id(1)] string OutputDirectory,
    [property: Id(2)] int Seed,
    [property: Id(3)] int Iterations,
    [property: Id(4)] int PromptsPerIteration,
    [property: Id(5)] string Policy,
    [property: Id(6)] string Preset,
    [property: Id(7)] string SimulatorOptionsJson,
    [property: Id(8)] int SamplesPerPrompt,
    [property: Id(9)] PairSource Pairs = PairSource.Refinement);

public enum RunStatusKind
{
    Created,
    Running,
    Completed,
    Failed,
}

/// <summary>The phases of a run, in order; an iteration goes through Sampling to Evaluation.</summary>
public enum RunPhase
{
    Starting,
    BootstrapActor,
    BootstrapRefiner,
    Sampling,
    Judging,
    Search,
    ActorTraining,
    RefinerTraining,
    Evaluation,
    Done,
}

/// <summary>Held-out accuracy of the actor, IFEval-style.</summary>
[GenerateSerializer, Immutable, Alias("spar.actor-scores")]
public sealed record ActorScores(
    [property: Id(0)] double PromptStrict,
    [property: Id(1)] double InstructionStrict,
    [property: Id(2)] double PromptLoose,
    [property: Id(3)] double InstructionLoose);

/// <summary>The refiner's judgments against the verifiers.</summary>
[GenerateSerializer, Immutable, Alias("spar.judge-scores")]
public sealed record JudgeScores(
    [property: Id(0)] double Accuracy,
    [property: Id(1)] double F1);

/// <summary>One row of the run's table: entry 0 is M_0/R_0, entry t the models after iteration t.</summary>
[GenerateSerializer, Immutable, Alias("spar.iteration-report")]
public sealed record IterationReport(
    [property: Id(0)] int Iteration,
    [property: Id(1)] ActorScores ActorHeldout,
    [property: Id(2)] JudgeScores RefinerJudgment,
    [property: Id(3)] double? RefinementSuccess,
    [property: Id(4)] double? MeanExpansions,
    [property: Id(5)] int DpoPairs,
    [property: Id(6)] int RftExamples,
    [property: Id(7)] double Seconds,
    [property: Id(8)] IReadOnlyDictionary<string, double> PhaseSeconds,
    [property: Id(9)] int Prompts,
    [property: Id(10)] int Negatives,
    [property: Id(11)] int Winners);

/// <summary>Where a run stands: phase, progress within the phase, and the finished iterations' reports.</summary>
[GenerateSerializer, Immutable, Alias("spar.run-status")]
public sealed record RunStatus(
    [property: Id(0)] string RunId,
    [property: Id(1)] RunStatusKind Status,
    [property: Id(2)] RunPhase Phase,
    [property: Id(3)] int Iteration,
    [property: Id(4)] int Done,
    [property: Id(5)] int Total,
    [property: Id(6)] string Message,
    [property: Id(7)] IReadOnlyList<IterationReport> Iterations,
    [property: Id(8)] string? Error,
    [property: Id(9)] DateTimeOffset Created,
    [property: Id(10)] DateTimeOffset Updated,
    [property: Id(11)] RunSpec? Spec);

/// <summary>
/// A run's coordinator (key = run id): owns its spec, model versions, iteration and phase, and drives the phases of
/// each iteration, advancing only when a phase is complete. It persists after every phase, so a restarted silo (or
/// <c>spar resume</c>) continues where it stopped. Reentrant: status and watch calls are answered mid-phase.
/// </summary>
[Alias("spar.run")]
public interface IRunGrain : IGrainWithStringKey
{
    /// <summary>Starts the run (idempotent: a started run just reports its status).</summary>
    Task<RunStatus> StartAsync(RunSpec spec);

    /// <summary>Continues a stored run that is not running (after a crash or a stop).</summary>
    Task<RunStatus> ResumeAsync();

    [AlwaysInterleave]
    Task<RunStatus> GetStatusAsync();

    /// <summary>Status updates as they happen, until the run ends or the caller cancels.</summary>
    [AlwaysInterleave]
    IAsyncEnumerable<RunStatus> WatchAsync(CancellationToken cancellationToken = default);

    /// <summary>The prompt keys of an iteration (for per-prompt views and exports).</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetPromptKeysAsync(int iteration);
}
