using Orleans.Concurrency;
using SparOrleans.Core.Datasets;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Grains.Training;

/// <summary>
/// Runs a run's training and evaluation on a GPU-role silo. Not persisted: every step is deterministic from its
/// inputs and writes its checkpoint last, so a coordinator that restarts simply asks again. Reentrant so progress
/// queries are answered during a step; steps themselves never overlap because the coordinator awaits each one.
/// </summary>
[Reentrant]
[RequireSiloRole(SiloRoles.Gpu)]
public sealed class TrainerGrain(IModelWorkshop workshop, CheckpointSync checkpoints) : Grain, ITrainerGrain
{
    private volatile StepProgressInfo? _progress;

    private IProgress<StepProgressInfo> Progress => new SynchronousProgress(p => _progress = p);

    // With blob storage, this grain may run on another GPU silo than the step before it (after a silo died): the
    // inputs are fetched when missing and every output is published.
    public Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory) =>
        Track(spec, [], actorDirectory, ct => workshop.BootstrapActorAsync(spec, actorDirectory, Progress, ct));

    public Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory) =>
        Track(spec, [actorDirectory], refinerDirectory, ct => workshop.BootstrapRefinerAsync(spec, actorDirectory, refinerDirectory, Progress, ct));

    public Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs) =>
        Track(spec, [fromDirectory], toDirectory, ct => workshop.TrainActorAsync(spec, fromDirectory, toDirectory, pairs, Progress, ct));

    public Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples) =>
        Track(spec, [fromDirectory], toDirectory, ct => workshop.TrainRefinerAsync(spec, fromDirectory, toDirectory, examples, Progress, ct));

    public Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs) =>
        Track(spec, [fromDirectory], toDirectory, ct => workshop.TrainJudgeAsync(spec, fromDirectory, toDirectory, judgePairs, Progress, ct));

    public Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory) =>
        Track(spec, [actorDirectory, refinerDirectory], null, ct => workshop.EvaluateAsync(spec, actorDirectory, refinerDirectory, Progress, ct));

    public Task<StepProgressInfo?> GetProgressAsync() => Task.FromResult(_progress);

    private async Task<T> Track<T>(RunSpec spec, IReadOnlyList<string> inputs, string? output, Func<CancellationToken, Task<T>> step)
    {
        // Training is CPU-bound for minutes: off the grain scheduler, so this silo keeps serving other grains.
        try
        {
            return await Task.Run(async () =>
            {
                foreach (var input in inputs)
                {
                    await checkpoints.EnsureLocalAsync(CheckpointSync.Name(spec.RunId, input), input);
                }
                var result = await step(CancellationToken.None);
                if (output is not null)
                {
                    await checkpoints.PublishAsync(CheckpointSync.Name(spec.RunId, output), output);
                }
                return result;
            });
        }
        finally
        {
            _progress = null;
        }
    }

    /// <summary>Records progress on the reporting thread (Progress&lt;T&gt; would post to a context that may not exist).</summary>
    private sealed class SynchronousProgress(Action<StepProgressInfo> report) : IProgress<StepProgressInfo>
    {
        public void Report(StepProgressInfo value) => report(value);
    }
}
