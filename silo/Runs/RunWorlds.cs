using SparOrleans.Core.Datasets;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Models.Runs;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Silo.Runs;

// A silo serves both kinds of run at once: each call goes by its spec to the simulated world (no models in the spec)
// or to the researcher's models, prompt file and benchmarks (RunSpec.Models).

/// <summary>Training prompts: the world's composer, or the run's prompt file.</summary>
public sealed class RunPromptSource(WorldPromptSource world, ModelPromptSource models) : IPromptSource
{
    public IReadOnlyList<PromptSpec> Prompts(RunSpec spec, int iteration) =>
        spec.Models is null ? world.Prompts(spec, iteration) : models.Prompts(spec, iteration);
}

/// <summary>Ground truth for the figures: the world's verifiers, or IFEval's for real prompts.</summary>
public sealed class RunResponseVerifier : IResponseVerifier
{
    private readonly WorldResponseVerifier _world = new();
    private readonly IfEvalResponseVerifier _ifeval = new();

    public bool? Follows(RunSpec spec, PromptSpec prompt, string response) =>
        spec.Models is null ? _world.Follows(spec, prompt, response) : _ifeval.Follows(spec, prompt, response);
}

/// <summary>Sampling, voting and search settings: the simulator's options, or the model run's settings.</summary>
public sealed class RunMethodSettings : IMethodSettings
{
    private readonly SimulatorMethodSettings _world = new();
    private readonly ModelMethodSettings _models = new();

    public MethodSettings Of(RunSpec spec) => spec.Models is null ? _world.Of(spec) : _models.Of(spec);
}

/// <summary>Bootstrap, training and evaluation: the simulator's, or on the researcher's checkpoints.</summary>
public sealed class RunWorkshop(SimulatorWorkshop world, ModelWorkshop models) : IModelWorkshop
{
    private IModelWorkshop For(RunSpec spec) => spec.Models is null ? world : models;

    public Task<StepReport> BootstrapActorAsync(RunSpec spec, string actorDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).BootstrapActorAsync(spec, actorDirectory, progress, cancellationToken);

    public Task<StepReport> BootstrapRefinerAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).BootstrapRefinerAsync(spec, actorDirectory, refinerDirectory, progress, cancellationToken);

    public Task<StepReport> TrainActorAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> pairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).TrainActorAsync(spec, fromDirectory, toDirectory, pairs, progress, cancellationToken);

    public Task<StepReport> TrainRefinerAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<SftExample> examples, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).TrainRefinerAsync(spec, fromDirectory, toDirectory, examples, progress, cancellationToken);

    public Task<StepReport> TrainJudgeAsync(RunSpec spec, string fromDirectory, string toDirectory, IReadOnlyList<DpoPair> judgePairs, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).TrainJudgeAsync(spec, fromDirectory, toDirectory, judgePairs, progress, cancellationToken);

    public Task<EvaluationReport> EvaluateAsync(RunSpec spec, string actorDirectory, string refinerDirectory, IProgress<StepProgressInfo> progress, CancellationToken cancellationToken) =>
        For(spec).EvaluateAsync(spec, actorDirectory, refinerDirectory, progress, cancellationToken);
}
