using System.Collections.Concurrent;
using System.Text.Json;
using SparOrleans.Core.Datasets;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// The real simulator workshop, recording the data sets each training step was given (the last call per target
/// checkpoint wins: a step redone after a fault replaces its earlier attempt, as its checkpoint does).
/// </summary>
public sealed class RecordingWorkshop : IModelWorkshop
{
    private readonly SimulatorWorkshop _inner = new();

    /// <summary>DPO pairs by target checkpoint name (actor-1, ...), as JSON lines.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<string>> Pairs { get; } = new();

    /// <summary>RFT examples by target checkpoint name (refiner-1, ...), as JSON lines.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<string>> Examples { get; } = new();

    public Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        _inner.BootstrapActorAsync(spec, actorDirectory, progress, cancellationToken);

    public Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        _inner.BootstrapRefinerAsync(spec, actorDirectory, refinerDirectory, progress, cancellationToken);

    public Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        Pairs[Path.GetFileName(toDirectory)] = pairs.Select(p => JsonSerializer.Serialize(p)).ToList();
        return _inner.TrainActorAsync(spec, fromDirectory, toDirectory, pairs, progress, cancellationToken);
    }

    public Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        Examples[Path.GetFileName(toDirectory)] = examples.Select(e => JsonSerializer.Serialize(e)).ToList();
        return _inner.TrainRefinerAsync(spec, fromDirectory, toDirectory, examples, progress, cancellationToken);
    }

    /// <summary>Judge-preference pairs by target checkpoint name (meta-rewarding's refiner-1, ...), as JSON lines.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<string>> JudgePairs { get; } = new();

    public Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        JudgePairs[Path.GetFileName(toDirectory)] = judgePairs.Select(p => JsonSerializer.Serialize(p)).ToList();
        return _inner.TrainJudgeAsync(spec, fromDirectory, toDirectory, judgePairs, progress, cancellationToken);
    }

    public Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        _inner.EvaluateAsync(spec, actorDirectory, refinerDirectory, progress, cancellationToken);
}
