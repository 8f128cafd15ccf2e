using Orleans.Concurrency;
using SparOrleans.Core.Datasets;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// What to run. Without <see cref="Models"/>, a SPaR run in the simulated world: <see cref="SimulatorOptionsJson"/>
/// carries every size and budget (the simulator's options record, as JSON, so the wire contract does not change when
/// a knob is added). With <see cref="Models"/>, a run on the researcher's own checkpoints and prompt file.
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
    [property: Id(9)] PairSource Pairs = PairSource.Refinement,
    [property: Id(10)] ModelRunSpec? Models = null)
{
    /// <summary>The role format the run's models talk in: the simulator's compact one, or the model run's.</summary>
    public string RoleFormat => Models?.RoleFormat ?? "compact";
}

/// <summary>
/// A run on real models: M_0 and R_0 as given (HF directories, copied into the run), the training prompts of a JSONL
/// prompt file, the held-out evaluation on an IFEval-format file and an LLMBar directory (either optional), the role
/// format (<c>paper</c>: Figure 8's templates through each model's chat template), the method's settings as JSON
/// (<c>ModelRunSettings</c> of the models library) and where generation happens (null: the GPU silos' own host).
/// Paths are absolute and must be readable by every GPU-role silo.
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.model-run-spec")]
public sealed record ModelRunSpec(
    [property: Id(0)] string ActorDirectory,
    [property: Id(1)] string RefinerDirectory,
    [property: Id(2)] string PromptFile,
    [property: Id(3)] string? IfEvalFile,
    [property: Id(4)] string? LlmBarDirectory,
    [property: Id(5)] string RoleFormat,
    [property: Id(6)] string SettingsJson,
    [property: Id(7)] GenerationSpec? Generation = null);

/// <summary>
/// Generation on an OpenAI-compatible server: its URL, the names it serves M_0 and R_0 under, and how each trained
/// version reaches it (<see cref="ServedUpdate.LoraAdapter"/> or <see cref="ServedUpdate.Restart"/> with
/// <see cref="RestartCommand"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.generation-spec")]
public sealed record GenerationSpec(
    [property: Id(0)] string BaseUrl,
    [property: Id(1)] string ActorName,
    [property: Id(2)] string RefinerName,
    [property: Id(3)] ServedUpdate Update,
    [property: Id(4)] string? RestartCommand = null)
{
    /// <summary>
    /// How version <paramref name="version"/> of <paramref name="role"/> is reached: M_0/R_0 under the names the
    /// server was started with; a trained version as the adapter <c>{run}-{role}-{version}</c> on that base, or under
    /// the same name after the restart command.
    /// </summary>
    public ServedModel Served(string runId, ModelRole role, int version)
    {
        var baseName = role == ModelRole.Actor ? ActorName : RefinerName;
        return version == 0 ? new ServedModel(BaseUrl, baseName, ServedUpdate.None)
            : Update == ServedUpdate.LoraAdapter ? new ServedModel(BaseUrl, $"{runId}-{role.ToString().ToLowerInvariant()}-{version}", ServedUpdate.LoraAdapter, baseName)
            : new ServedModel(BaseUrl, baseName, Update, RestartCommand: RestartCommand);
    }
}

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

/// <summary>
/// The refiner's judgments against the verifiers (greedy). The simulator scores them on R_0's frozen set (M_0's samples
/// on held-out prompts) and adds the operating point: <see cref="YesRate"/> against <see cref="FollowingRate"/>, the
/// precision of Yes, the recall of each class, each case's correctness in the frozen set's order
/// (<see cref="FrozenCorrect"/>, '1' right and '0' wrong, for McNemar's test of R_t against R_0) and the teacher cases' accuracy alone.
/// The added fields are null where a workshop does not measure them.
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.judge-scores")]
public sealed record JudgeScores(
    [property: Id(0)] double Accuracy,
    [property: Id(1)] double F1,
    [property: Id(2)] int? Cases = null,
    [property: Id(3)] double? YesRate = null,
    [property: Id(4)] double? YesPrecision = null,
    [property: Id(5)] double? YesRecall = null,
    [property: Id(6)] double? NoRecall = null,
    [property: Id(7)] double? FollowingRate = null,
    [property: Id(8)] string? FrozenCorrect = null,
    [property: Id(9)] double? TeacherAccuracy = null)
{
    /// <summary><see cref="FrozenCorrect"/> as booleans in case order (empty when not measured), the form McNemar's test takes.</summary>
    public IReadOnlyList<bool> FrozenCorrectCases() => FrozenCorrect?.Select(c => c == '1').ToList() ?? [];
}

/// <summary>
/// One row of the run's table: entry 0 is M_0/R_0, entry t the models after iteration t. <see cref="AllVotesInvalid"/>
/// counts the prompts without a negative because no judgment of any sample had a verdict (a refiner that cannot write
/// one, not samples judged right).
/// </summary>
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
    [property: Id(11)] int Winners,
    [property: Id(12)] int AllVotesInvalid = 0);

/// <summary>
/// Where a run stands: phase, progress within the phase, the finished iterations' reports, and the silo whose
/// activation of the run grain answered (<see cref="Coordinator"/>, the silo's name; null from older silos).
/// </summary>
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
    [property: Id(11)] RunSpec? Spec,
    [property: Id(12)] string? Coordinator = null);

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
