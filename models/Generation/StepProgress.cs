using SparOrleans.Engine.Training;

namespace SparOrleans.Models.Generation;

/// <summary>
/// Where a simulator step stands, for progress bars: the phase (e.g. <c>actor-sft</c>, <c>refiner-sampling</c>,
/// <c>eval-judge</c>), units done of the total (optimizer steps, generations), and the last training loss when training.
/// </summary>
public sealed record StepProgress(string Phase, int Done, int Total, double? Loss = null)
{
    /// <summary>A reporter of engine training progress as simulator progress under <paramref name="phase"/>.</summary>
    public static IProgress<TrainingProgress>? Training(IProgress<StepProgress>? progress, string phase) =>
        progress is null
            ? null
            : new SynchronousProgress<TrainingProgress>(p =>
                progress.Report(new StepProgress(phase, p.Step, p.TotalSteps, p.Metrics.TryGetValue("loss", out var l) ? l : null)));
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (no synchronisation context hop).</summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
