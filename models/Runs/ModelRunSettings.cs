using System.Text.Json;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Training;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Models.Runs;

/// <summary>
/// The method's settings of a run on real models (<see cref="ModelRunSpec.SettingsJson"/>; <c>spar run --options F</c>
/// lays a JSON file over these defaults). The defaults are the paper's (Appendix C and §3.1: K samples at 0.9/top-p
/// 0.9, voting@5 at 0.7, BFS branch 3 / keep 2 / depth 3, DPO lr 2e-7 β 0.1 with an NLL term 0.1 and a linear
/// schedule, RFT lr 1e-6 for 3 epochs); their batch sizes assume an 8B model on GPUs, so a small model or this machine
/// needs its own.
/// </summary>
public sealed record ModelRunSettings : IValidatedOptions
{
    public SamplingOptions Sampling { get; init; } = new() { ActorMaxTokens = 1024, JudgeMaxTokens = 1024, RefineMaxTokens = 1024 };

    public VotingOptions InitialVoting { get; init; } = VotingOptions.InitialJudging;

    public VotingOptions TreeVoting { get; init; } = VotingOptions.TreeSearch;

    public TreeSearchOptions TreeSearch { get; init; } = new();

    /// <summary>Which votes give RFT its judgments: the paper's (§2.2.3), every vote's majority-consistent judgment and one Yes and one No node per tree.</summary>
    public RftVotes RftVotes { get; init; } = RftVotes.Majority;

    /// <summary>The actor's DPO on refinement pairs (the reference is M_{t-1}).</summary>
    public DpoOptions Dpo { get; init; } = new()
    {
        LearningRate = 2e-7, BatchSize = 32, MicroBatchSize = 1, Schedule = LearningRateSchedule.Linear, MaxSequenceLength = 2048,
    };

    /// <summary>The refiner's RFT on its own kept judgments and successful refinements.</summary>
    public SftOptions Rft { get; init; } = new() { LearningRate = 1e-6, Epochs = 3, BatchSize = 64, MicroBatchSize = 1, MaxSequenceLength = 2048 };

    /// <summary>The SELF baseline's SFT on refined responses (<c>--pairs self-refine</c>).</summary>
    public SftOptions RefinementSft { get; init; } = new() { LearningRate = 2e-6, Epochs = 1, BatchSize = 32, MicroBatchSize = 1, MaxSequenceLength = 2048 };

    /// <summary>Meta-rewarding's judge DPO (<c>--pairs meta-rewarding</c>).</summary>
    public DpoOptions JudgeDpo { get; init; } = new() { LearningRate = 2e-7, BatchSize = 32, MicroBatchSize = 1, MaxSequenceLength = 2048 };

    /// <summary>
    /// Train LoRA adapters instead of every weight (null: full fine-tuning). Each version is then an adapter over the
    /// run's M_0 (R_0), trained on from the previous version's, which is what vLLM's <c>load_lora_adapter</c> serves.
    /// </summary>
    public LoraOptions? Lora { get; init; }

    /// <summary><c>cpu</c> or <c>cuda[:N]</c> for training and evaluation.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>float32, bfloat16 or float16 for training and evaluation; null keeps the engine's float32.</summary>
    public string? Dtype { get; init; }

    /// <summary>Torch threads on CPU; 0 = every core.</summary>
    public int Threads { get; init; }

    /// <summary>Rows decoded together in evaluation.</summary>
    public int GenerationBatch { get; init; } = 64;

    /// <summary>Tokens the actor may write per IFEval prompt (greedy).</summary>
    public int EvalMaxNewTokens { get; init; } = 1024;

    /// <summary>Only the first this many IFEval prompts (null: all).</summary>
    public int? EvalPrompts { get; init; }

    /// <summary>LLMBar judgments: 1 = greedy, else majority voting@K at 0.7 (Table 9).</summary>
    public int LlmBarVotes { get; init; } = 1;

    /// <summary>Only the first this many pairs of each LLMBar subset (null: all).</summary>
    public int? LlmBarPairs { get; init; }

    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    public IEnumerable<string> Problems() => new ProblemList()
        .Device(nameof(Device), Device)
        .Require(Dtype is null || ModelCheckpoint.DtypeNames.Contains(Dtype), $"Dtype must be one of {string.Join(", ", ModelCheckpoint.DtypeNames)} (got '{Dtype}')")
        .Threads(nameof(Threads), Threads, min: 0)
        .InRange(nameof(GenerationBatch), GenerationBatch, 1, 4096)
        .Positive(nameof(EvalMaxNewTokens), EvalMaxNewTokens)
        .Require(EvalPrompts is null or > 0, $"{nameof(EvalPrompts)} must be greater than 0 (got {EvalPrompts})")
        .InRange(nameof(LlmBarVotes), LlmBarVotes, 1, 64)
        .Require(LlmBarPairs is null or > 0, $"{nameof(LlmBarPairs)} must be greater than 0 (got {LlmBarPairs})")
        .Nested(nameof(Sampling), Sampling)
        .Nested(nameof(InitialVoting), InitialVoting)
        .Nested(nameof(TreeVoting), TreeVoting)
        .Nested(nameof(TreeSearch), TreeSearch)
        .Nested(nameof(Dpo), Dpo)
        .Nested(nameof(Rft), Rft)
        .Nested(nameof(RefinementSft), RefinementSft)
        .Nested(nameof(JudgeDpo), JudgeDpo)
        .Nested(nameof(Lora), Lora);

    private static readonly JsonSerializerOptions Json = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The settings of a model run's spec (validated).</summary>
    public static ModelRunSettings Of(RunSpec spec) =>
        spec.Models is { } models ? FromJson(models.SettingsJson, $"run {spec.RunId}") : throw new ArgumentException($"Run {spec.RunId} is not a model run.");

    public static ModelRunSettings FromJson(string json, string source)
    {
        try
        {
            return (string.IsNullOrWhiteSpace(json) ? new ModelRunSettings() : JsonSerializer.Deserialize<ModelRunSettings>(json, Json) ?? new ModelRunSettings()).Validated();
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{source}: not valid model-run settings ({e.Message})");
        }
    }

    /// <summary>How the run's roles sample and vote (<see cref="IMethodSettings"/> for model runs).</summary>
    public MethodSettings Method() => new(Sampling, InitialVoting, TreeSearch, TreeVoting, RftVotes);
}

/// <summary>The method settings of model runs: <see cref="ModelRunSettings.Method"/> of the spec's settings.</summary>
public sealed class ModelMethodSettings : IMethodSettings
{
    public MethodSettings Of(RunSpec spec) => ModelRunSettings.Of(spec).Method();
}
