using SparOrleans.Core.Datasets;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// The model work of a GPU-role silo (the engine computes; grains only orchestrate): bootstrap, DPO, RFT and
/// evaluation on checkpoint directories. Registered in a GPU-role silo's services; the simulator's is one implementation.
/// </summary>
public interface IModelWorkshop
{
    Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);

    Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);

    Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);

    Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);

    Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);

    Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken);
}
