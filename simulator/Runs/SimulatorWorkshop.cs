using System.Diagnostics;
using SparOrleans.Core.Datasets;
using SparOrleans.Interfaces.Runs;
using SimulatorEvaluation = SparOrleans.Simulator.Evaluation;
using RunEvaluationReport = SparOrleans.Interfaces.Runs.EvaluationReport;

namespace SparOrleans.Simulator.Runs;

/// <summary>
/// The simulator's bootstrap, training and evaluation steps: the <see cref="IModelWorkshop"/> a GPU-role silo
/// registers for runs in the simulated world (the trainer grain calls it). With a
/// <see cref="BootstrapCache"/>, M_0 and R_0 are trained once per set of bootstrap options and copied afterwards.
/// </summary>
public sealed class SimulatorWorkshop(BootstrapCache? cache = null) : IModelWorkshop
{
    public async Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var options = RunOptions.Of(spec);
        var result = cache is null
            ? await Bootstrap.TrainActorAsync(options, actorDirectory, Adapt(progress), cancellationToken)
            : await cache.ActorAsync(options, actorDirectory, Adapt(progress), cancellationToken);
        return new StepReport(result.TotalSeconds, result.Steps, LossOf(result), $"M_0: {result.Examples} teacher answers{CachedNote(result)}");
    }

    public async Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var options = RunOptions.Of(spec);
        var result = cache is null
            ? await Bootstrap.TrainRefinerAsync(options, actorDirectory, refinerDirectory, Adapt(progress), cancellationToken)
            : await cache.RefinerAsync(options, actorDirectory, refinerDirectory, Adapt(progress), cancellationToken);
        return new StepReport(result.TotalSeconds, result.Steps, LossOf(result), $"R_0: {result.Examples} judgments and refinements{CachedNote(result)}");
    }

    private static string CachedNote(BootstrapResult result) => result.Cached ? " (from the bootstrap cache)" : "";

    public async Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var options = RunOptions.Of(spec);
        return Report(spec.Pairs.TrainsActorBySft()
            ? await IterationTraining.TrainActorSft(fromDirectory, toDirectory, pairs, options, Adapt(progress), cancellationToken)
            : await IterationTraining.TrainActorDpo(fromDirectory, toDirectory, pairs, options, Adapt(progress), cancellationToken));
    }

    public async Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        Report(await IterationTraining.TrainRefinerJudgeDpo(fromDirectory, toDirectory, judgePairs, RunOptions.Of(spec), Adapt(progress), cancellationToken));

    public async Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        Report(await IterationTraining.TrainRefinerRft(fromDirectory, toDirectory, examples, RunOptions.Of(spec), Adapt(progress), cancellationToken));

    private static StepReport Report(TrainingStepResult result) => new(result.Seconds, result.Steps, result.LastMetrics, result.Message);

    public async Task<RunEvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (actor, judge, teacher, frozen) = await SimulatorEvaluation.EvaluateLoopAsync(actorDirectory, refinerDirectory, RunOptions.Of(spec), Adapt(progress), cancellationToken);
        return new RunEvaluationReport(
            new ActorScores(actor.PromptStrict, actor.InstructionStrict, actor.PromptLoose, actor.InstructionLoose),
            new JudgeScores(judge.Accuracy, judge.F1, judge.Cases, judge.YesRate, judge.Precision, judge.YesRecall, judge.NoRecall, judge.FollowingRate,
                frozen ? judge.Correct : null, teacher.Accuracy),
            clock.Elapsed.TotalSeconds);
    }

    private static IReadOnlyDictionary<string, double> LossOf(BootstrapResult result) =>
        result.FinalLoss is { } loss ? new Dictionary<string, double> { ["loss"] = loss } : new Dictionary<string, double>();

    private static IProgress<StepProgress> Adapt(IProgress<StepProgressInfo> progress) =>
        new Relay(p => progress.Report(new StepProgressInfo(p.Phase, p.Done, p.Total, p.Loss)));

    private sealed class Relay(Action<StepProgress> report) : IProgress<StepProgress>
    {
        public void Report(StepProgress value) => report(value);
    }
}
