using System.Diagnostics;
using SparOrleans.Core.Options;

namespace SparOrleans.Simulator;

/// <summary>What <see cref="SimulatorBench.RunAsync"/> measured: the bootstrap steps, the evaluation of (M_0, R_0), wall times.</summary>
public sealed record BenchReport(BootstrapResult Actor, BootstrapResult Refiner, EvaluationReport Evaluation, double TotalSeconds);

/// <summary>
/// The measurement path behind <c>spar bench simulator</c>: bootstrap M_0 and R_0 under the given options into
/// <c>workDir/actor-0</c> and <c>workDir/refiner-0</c>, then evaluate them as the run's iteration 0. With
/// <c>existingActorDir</c> the actor's bootstrap is skipped and that M_0 is used (to compare refiner settings on one M_0).
/// </summary>
public static class SimulatorBench
{
    public static async Task<BenchReport> RunAsync(SimulatorOptions options, string workDir, IProgress<StepProgress>? progress = null,
        CancellationToken cancellationToken = default, string? existingActorDir = null)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var actorDir = existingActorDir ?? Path.Combine(workDir, "actor-0");
        var refinerDir = Path.Combine(workDir, "refiner-0");
        var actor = existingActorDir is null
            ? await Bootstrap.TrainActorAsync(options, actorDir, progress, cancellationToken).ConfigureAwait(false)
            : new BootstrapResult(actorDir, 0, 0, null, 0, 0, 0, new Dictionary<string, int> { ["reused"] = 1 });
        var refiner = await Bootstrap.TrainRefinerAsync(options, actorDir, refinerDir, progress, cancellationToken).ConfigureAwait(false);
        var evaluation = await Evaluation.EvaluateAsync(actorDir, refinerDir, options, progress, cancellationToken).ConfigureAwait(false);
        return new BenchReport(actor, refiner, evaluation, clock.Elapsed.TotalSeconds);
    }
}
