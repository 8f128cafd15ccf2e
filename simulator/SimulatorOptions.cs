using System.Text.Json.Serialization;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;
using SparOrleans.Engine.Text;
using SparOrleans.Engine.Training;
using SparOrleans.World.Benchmark;
using SparOrleans.World.Composition;

namespace SparOrleans.Simulator;

/// <summary>Where the bootstrapped refiner R_0 starts.</summary>
public enum RefinerInit
{
    /// <summary>From M_0's weights: the model already writes the world's language (default; measured better).</summary>
    FromActor,

    /// <summary>From freshly initialised weights (same size as the actor).</summary>
    Fresh,
}

/// <summary>
/// Every size and budget of the simulator: the model, the bootstrap of M_0 and R_0, one SPaR iteration (sampling,
/// judging, search, DPO, RFT) and the evaluations. <see cref="Default"/> is what <c>spar run</c> uses (the whole run,
/// three iterations included, aims at 20 minutes on a 2-core CPU; measured 18 min 1 s from a fresh bootstrap,
/// README.md); <see cref="Quick"/> is <c>spar run --quick</c> (the default's cached M_0/R_0 and a small loop: 76–82 s under
/// load once the bootstrap is cached).
/// Every count is ≥ 1 unless stated; temperatures 0–10; weights ≥ 0.
/// </summary>
public sealed record SimulatorOptions : IValidatedOptions
{
    /// <summary>Seeds model initialisation, prompt draws, data order and sampling (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Seed of the bootstrap alone (M_0's and R_0's data, initialisation and training); null (default) means
    /// <see cref="Seed"/>. Experiments set it so that runs of several seeds start from the same M_0/R_0, as the paper's
    /// baselines do, and share one bootstrap cache entry.
    /// </summary>
    public int? BootstrapSeed { get; init; }

    /// <summary>
    /// Model width (default 128; must be a multiple of <see cref="Heads"/> with an even head size). On a 2-core CPU,
    /// d=128 reaches the loss of d=256 at equal steps for a quarter of the compute in the first hundred steps
    /// (measured: 1.44 vs 1.45 at step 100), and the run's budget buys steps, not width.
    /// </summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>Decoder layers (default 4).</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Attention heads (default 4).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>
    /// Merges of the subword vocabulary M_0 learns from the teacher's texts before its SFT (R_0 inherits it);
    /// 0 means byte-level tokens. Default 384: sequences shrink to about a third of their bytes, so the same
    /// minutes of training see about three times the examples and every generation of the loop is that much
    /// shorter (measured in simulator/README.md). The generation caps below count tokens of this vocabulary.
    /// </summary>
    public int SubwordMerges { get; init; } = 384;

    /// <summary>Torch threads for training and generation; 0 (default) means every core.</summary>
    public int Threads { get; init; }

    /// <summary>"cpu" (default) or "cuda".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>How prompts are drawn (levels, task types); null means the world's defaults (uniform levels 1–5).</summary>
    public ComposerOptions? Composer { get; init; }

    // ---- Bootstrap of M_0 ----

    /// <summary>
    /// SFT of M_0 on teacher answers; one fresh prompt per example, so the example count is
    /// <c>MaxSteps × BatchSize</c> (fresh examples beat epochs for tiny models: shared/notes/simulator-feasibility.md).
    /// </summary>
    public SftOptions ActorSft { get; init; } = new()
    {
        LearningRate = 3e-3, MaxSteps = 1200, BatchSize = 16, MicroBatchSize = 16, WarmupSteps = 40,
        Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1, WeightDecay = 0.01, InputLossWeight = 0.5,
    };

    // ---- Bootstrap of R_0 ----

    /// <summary>
    /// Train prompts on which M_0 samples its own answers for R_0's data (default 4096: with the Yes share and the
    /// teacher's top-up below they are most of R_0's set, as in §2.2.2; 512 gave a few hundred of 19,200 examples).
    /// The set is also never smaller than this many judgments (the teacher fills in what M_0's samples cannot; <see cref="RefinerMix"/>).
    /// </summary>
    public int RefinerSamplePrompts { get; init; } = 4096;

    /// <summary>Temperature of those M_0 samples (default 0.9).</summary>
    public double RefinerSampleTemperature { get; init; } = 0.9;

    /// <summary>SFT of R_0 for <c>MaxSteps</c> steps over its set (<see cref="RefinerMix"/>), as many epochs as that takes.</summary>
    public SftOptions RefinerSft { get; init; } = new()
    {
        LearningRate = 2e-3, MaxSteps = 1200, BatchSize = 16, MicroBatchSize = 16, WarmupSteps = 40,
        Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1, WeightDecay = 0.01, InputLossWeight = 0.5,
    };

    /// <summary>
    /// Share of R_0's examples that are refinements (the rest are judgments, balanced Yes/No); 0–1, default 0.2. The
    /// judge is the bottleneck: with 1,200 steps and 0.2, R_0 judged 61.9% of the held-out cases right, with 600 steps
    /// and 0.35 52.5% (chance is 50%; simulator/README.md).
    /// </summary>
    public double RefineShare { get; init; } = 0.2;

    /// <summary>
    /// Share of Yes among R_0's judgments, 0–1 (default 0.35, about M_0's pass rate at T = 0.9: the loop's own base
    /// rate). At a balanced 0.5 R_0 said Yes to ~85% of cases (a Yes-sayer, whose Yes is worth little); below the
    /// base rate the judge leans to No, the paper's conservative operating point.
    /// </summary>
    public double RefinerYesShare { get; init; } = 0.35;

    /// <summary>
    /// Share of R_0's judgments that are the teacher's answers and near misses rather than judgments of M_0's own
    /// samples, 0–1 (default 0.2: they top the set up; M_0's samples are most of it).
    /// </summary>
    public double RefinerTeacherShare { get; init; } = 0.2;

    /// <summary>
    /// R_0's mix as <see cref="BootstrapData.Plan"/> takes it. Its judgments are at least as many as M_0's samples and
    /// at least a quarter of the step budget's (so at most about four epochs): a weak M_0, whose samples nearly all
    /// fail, still gets a judge trained on enough teacher cases.
    /// </summary>
    public RefinerMix RefinerMix => new(RefinerYesShare, RefinerTeacherShare, RefineShare,
        Math.Max(RefinerSamplePrompts, (int)(RefinerExamples * (1 - RefineShare) / 4)));

    /// <summary>Loss weight of the bytes that decide a judgment (each check's ok/NO and the final yes/no) in R_0's SFT; default 4.</summary>
    public double VerdictWeight { get; init; } = 4;

    /// <summary>Where R_0 starts (default <see cref="RefinerInit.FromActor"/>).</summary>
    public RefinerInit RefinerInit { get; init; } = RefinerInit.FromActor;

    // ---- One SPaR iteration ----

    /// <summary>
    /// Train prompts per iteration (default 48). Budget: with K = 4 and five votes an iteration's judging generates
    /// 20 judgments per prompt; at 64 prompts the iterations took 162–204 s (judging 72–92 s) and a fresh run 20–21
    /// minutes, over the 20-minute target (README.md).
    /// </summary>
    public int IterationPrompts { get; init; } = 48;

    /// <summary>Actor samples per prompt, K (default 4; the paper's 5 costs 25% more judging).</summary>
    public int SamplesPerPrompt { get; init; } = 4;

    /// <summary>Temperature of the actor's samples (default 0.9).</summary>
    public double ActorTemperature { get; init; } = 0.9;

    /// <summary>Temperature of judge and refinement samples in the loop (default 0.7).</summary>
    public double RefinerTemperature { get; init; } = 0.7;

    /// <summary>Voting of the initial judging (default 5 samples, ties dropped).</summary>
    public VotingOptions InitialVoting { get; init; } = VotingOptions.InitialJudging;

    /// <summary>Voting inside the tree search (default 5 samples, 3 tie re-judges).</summary>
    public VotingOptions TreeVoting { get; init; } = VotingOptions.TreeSearch;

    /// <summary>
    /// The tree search (default: the paper's BFS with branch 3 and keep 2, but depth 2 and at most 9 expansions, so
    /// that three iterations fit the run's budget; each expansion costs a refinement and five judgments).
    /// </summary>
    public TreeSearchOptions TreeSearch { get; init; } = new(MaxDepth: 2, MaxExpansions: 9);

    /// <summary>
    /// The actor's DPO per iteration. The engine's default learning rate (5e-7, an 8B model's) would not move a
    /// 1M-parameter model trained at 3e-3; 1e-4 over three epochs of a few dozen pairs moves it by a few percent of
    /// its weights, with the NLL term 0.1 on chosen responses.
    /// </summary>
    public DpoOptions Dpo { get; init; } = new()
    {
        LearningRate = 1e-4, Epochs = 3, BatchSize = 16, MicroBatchSize = 16, Beta = 0.1, NllWeight = 0.1,
    };

    /// <summary>
    /// The actor's SFT on its refined responses, for the SELF baseline (<c>--pairs self-refine</c>): the same
    /// budget as the DPO (rate, epochs, batch), the loss on the response only.
    /// </summary>
    public SftOptions RefinementSft { get; init; } = new()
    {
        LearningRate = 1e-4, Epochs = 3, BatchSize = 16, MicroBatchSize = 16, InputLossWeight = 0,
    };

    /// <summary>
    /// The refiner's DPO on judge-preference pairs (kept vs dissenting judgment of one vote), for the meta-rewarding
    /// baseline (<c>--pairs meta-rewarding</c>); its RFT still runs first.
    /// </summary>
    public DpoOptions JudgeDpo { get; init; } = new()
    {
        LearningRate = 1e-4, Epochs = 1, BatchSize = 16, MicroBatchSize = 16, Beta = 0.1, NllWeight = 0.1,
    };

    /// <summary>
    /// Which votes give RFT its judgments (default <see cref="RftVotes.Majority"/>, the paper's: every vote's
    /// majority-consistent judgment, and one Yes and one No node per tree); in an options file
    /// <c>{"RftVotes": "NonUnanimous"}</c> or <c>"Unanimous"</c> (every judged tree node whose vote that selects).
    /// Over five loop seeds from the 6 Dec R_0, unanimous votes (RFT judgments 88% right, against 71% for the default)
    /// still left the judge 4.3 points below R_0 after three iterations, the default 2.0 (simulator/README.md).
    /// </summary>
    public RftVotes RftVotes { get; init; } = RftVotes.Majority;

    /// <summary>
    /// The share of Yes among the RFT set's judgments (default null: R_0's <see cref="RefinerYesShare"/>, so every R_t
    /// trains on the mix R_0 did). At 0.5 (the balance before, <c>{"RftYesShare": 0.5}</c>) a fresh default run's judge
    /// went from 43.5% Yes to 55.2% in three iterations while 36% of the frozen cases follow, its accuracy from 79.4 to
    /// 68.3; with the reference's caps alone (about 3 Yes to 1 No) loop seed 1 went to 65.6% Yes and 61.5 (simulator/README.md).
    /// </summary>
    public double? RftYesShare { get; init; }

    /// <summary>
    /// Caps per source of the RFT set (default null: the reference's caps scaled to 4 × the iteration's prompts, which
    /// give the actor's own samples 10 No judgments of 192 at 48 prompts); e.g. <c>{"RftCaps": {"Refinements": 81,
    /// "TreeYes": 0, "TreeNo": 0, "InitialNo": 1000, "InitialYes": 1000}}</c> trains the judge on the actor's samples alone.
    /// </summary>
    // Left out of the JSON when null, so the default's options, and the experiment runs named by their hash, stay as they were.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RftCaps? RftCaps { get; init; }

    /// <summary>
    /// A diagnostic, not SPaR (default false): RFT keeps only the candidates the verifiers confirm, so a loop run measures
    /// what the judge gains when every label it trains on is right: the most any filter of its own judgments could give.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RftOracle { get; init; }

    /// <summary>
    /// RFT keeps only judgments whose checks name constraints the prompt states (default false). The loop's sampled
    /// judgments name a constraint the prompt lacks in about half their checks, and RFT on them teaches that.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RftGrounded { get; init; }

    /// <summary>The refiner's RFT per iteration: the paper's Eq. 1, the loss on the target alone (<c>InputLossWeight</c> 0).</summary>
    public SftOptions Rft { get; init; } = new()
    {
        LearningRate = 2e-4, Epochs = 1, BatchSize = 16, MicroBatchSize = 16, InputLossWeight = 0,
    };

    /// <summary>Loss weight of a judgment's deciding tokens in RFT (default 1, Eq. 1 unweighted; the bootstrap's <see cref="VerdictWeight"/> was 4 here before).</summary>
    public double RftVerdictWeight { get; init; } = 1;

    // ---- Generation and evaluation ----

    /// <summary>Rows decoded together by the generation service (default 64).</summary>
    public int GenerationBatch { get; init; } = 64;

    /// <summary>New-token cap of an actor answer (default 160 subword tokens; the teacher's longest answer on 300 held-out prompts takes 125).</summary>
    public int ActorMaxNewTokens { get; init; } = 160;

    /// <summary>
    /// The actor cap for a model of any vocabulary: <paramref name="cap"/> counts subword tokens, and a byte-level
    /// model (<see cref="SubwordMerges"/> 0, checkpoints from before subwords) needs 320 bytes for the answers 160
    /// subwords hold.
    /// </summary>
    public static int ActorCapFor(ITokenizer tokenizer, int cap) => tokenizer.Kind == "byte" ? 2 * cap : cap;

    /// <summary>New-token cap of a judgment (default 200: the teacher's longest on 300 held-out prompts, evidence lines naming each check by the prompt's sentence and the verdict, takes 177).</summary>
    public int JudgeMaxNewTokens { get; init; } = 200;

    /// <summary>New-token cap of a refinement (default 200: the teacher's longest reflection plus refined response takes 162).</summary>
    public int RefineMaxNewTokens { get; init; } = 200;

    /// <summary>Held-out prompts for the actor's score (default 500, from <see cref="SimBenchmark.HeldOut"/>; at 200 one prompt was half a point).</summary>
    public int HeldOutCount { get; init; } = 500;

    /// <summary>Seed of the held-out set (default the benchmark's standard seed).</summary>
    public int HeldOutSeed { get; init; } = SimBenchmark.DefaultSeed;

    /// <summary>Fixed judge cases: half teacher answers, half teacher near misses on held-out prompts (default 120, even).</summary>
    public int JudgeEvalCases { get; init; } = 120;

    /// <summary>
    /// Cases of the judge's frozen evaluation set (<see cref="FrozenJudgeSet"/>): M_0's samples on this many held-out
    /// prompts, drawn once with R_0 (default 480; 0 = none, the actor's cases below instead).
    /// </summary>
    public int FrozenJudgeCases { get; init; } = 480;

    /// <summary>Cap on the balanced cases from the actor's own held-out answers added to the judge set when a refiner has no frozen set (default 40, even; 0 = none).</summary>
    public int JudgeEvalActorCases { get; init; } = 40;

    /// <summary>Samples of the majority-vote judge evaluation (default 5) at <see cref="EvalVoteTemperature"/>.</summary>
    public int EvalVotes { get; init; } = 5;

    /// <summary>Temperature of the majority-vote judge evaluation (default 0.7).</summary>
    public double EvalVoteTemperature { get; init; } = 0.7;

    /// <summary>Held-out near misses the refiner is asked to fix (default 80).</summary>
    public int RefineEvalCases { get; init; } = 80;

    /// <summary>The <c>spar run</c> configuration.</summary>
    public static SimulatorOptions Default { get; } = new();

    /// <summary>
    /// The <c>spar run --quick</c> configuration: <see cref="Default"/> with a small loop (12 prompts of K = 3 samples,
    /// voting@3, a BFS of branch 2 keeping 1 to depth 2 with at most 4 expansions). Every option that shapes M_0/R_0 and
    /// the evaluation is the default's, so both presets share one bootstrap cache entry and their tables' row 0 is the
    /// same: the first quick run in a home trains the default bootstrap (as long as <c>spar run</c>'s), later ones start
    /// from the cache (76–82 s for three iterations, 6 Dec 2026, under load). A smaller bootstrap cannot show the method:
    /// d=64 models trained for 30 steps (the preset before) never wrote a verdict, so no tree was ever built, and a
    /// d=64, 2-layer R_0 of 500 steps judged 47.6% of 124 held-out cases (chance; simulator/README.md).
    /// </summary>
    public static SimulatorOptions Quick { get; } = new()
    {
        IterationPrompts = 12,
        SamplesPerPrompt = 3,
        TreeSearch = new TreeSearchOptions(BranchFactor: 2, KeepBest: 1, MaxDepth: 2, MaxExpansions: 4),
        InitialVoting = VotingOptions.InitialJudging with { Samples = 3 },
        TreeVoting = VotingOptions.TreeSearch with { Samples = 3, TieRejudges = 1 },
    };

    /// <summary>A very small configuration for tests: d=32, 1 layer, a few steps of everything.</summary>
    public static SimulatorOptions Tiny { get; } = new()
    {
        HiddenSize = 32,
        Layers = 1,
        Heads = 2,
        Threads = 1,
        SubwordMerges = 0,
        ActorSft = Default.ActorSft with { MaxSteps = 3, WarmupSteps = 0, BatchSize = 8, MicroBatchSize = 8 },
        RefinerSamplePrompts = 8,
        RefinerSft = Default.RefinerSft with { MaxSteps = 3, WarmupSteps = 0, BatchSize = 8, MicroBatchSize = 8 },
        IterationPrompts = 4,
        SamplesPerPrompt = 2,
        Dpo = Default.Dpo with { BatchSize = 4, MicroBatchSize = 4, Epochs = 1 },
        Rft = Default.Rft with { BatchSize = 4, MicroBatchSize = 4 },
        ActorMaxNewTokens = 24,
        JudgeMaxNewTokens = 24,
        RefineMaxNewTokens = 24,
        HeldOutCount = 4,
        JudgeEvalCases = 4,
        JudgeEvalActorCases = 2,
        FrozenJudgeCases = 4,
        EvalVotes = 3,
        RefineEvalCases = 2,
    };

    /// <summary>The names <see cref="Preset"/> knows: <c>default</c>, <c>quick</c>, <c>tiny</c>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["default", "quick", "tiny"];

    /// <summary>
    /// The preset of that name (<see cref="Default"/>, <see cref="Quick"/> or <see cref="Tiny"/>): the one mapping from a
    /// preset name to options that <c>spar run</c>, the experiments, the run grain's workshop and the benches share.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static SimulatorOptions Preset(string name) => name switch
    {
        "default" => Default,
        "quick" => Quick,
        "tiny" => Tiny,
        _ => throw new ArgumentException($"unknown simulator preset '{name}' (known: {string.Join(", ", PresetNames)})", nameof(name)),
    };

    /// <summary>Torch threads to use: <see cref="Threads"/>, or every core when it is 0.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>These options as the bootstrap sees them: <see cref="Seed"/> replaced by <see cref="BootstrapSeed"/> when set.</summary>
    public SimulatorOptions ForBootstrap() => BootstrapSeed is { } seed ? this with { Seed = seed, BootstrapSeed = null } : this;

    /// <summary>Examples in M_0's SFT set.</summary>
    public int ActorExamples => ActorSft.MaxSteps * ActorSft.BatchSize;

    /// <summary>Examples in R_0's SFT set.</summary>
    public int RefinerExamples => RefinerSft.MaxSteps * RefinerSft.BatchSize;

    public IEnumerable<string> Problems()
    {
        var problems = new ProblemList()
            .Positive(nameof(HiddenSize), HiddenSize)
            .Positive(nameof(Layers), Layers)
            .Positive(nameof(Heads), Heads)
            .Require(Heads > 0 && HiddenSize % Heads == 0 && HiddenSize / Heads % 2 == 0,
                $"{nameof(HiddenSize)} ({HiddenSize}) must be a multiple of {nameof(Heads)} ({Heads}) with an even head size")
            .Threads(nameof(Threads), Threads, min: 0)
            .Device(nameof(Device), Device)
            .InRange(nameof(SubwordMerges), SubwordMerges, 0, 4096)
            .Require(ActorSft.MaxSteps > 0, "ActorSft.MaxSteps must be greater than 0 (it sets the number of fresh examples)")
            .Require(RefinerSft.MaxSteps > 0, "RefinerSft.MaxSteps must be greater than 0 (it sets the number of fresh examples)")
            .Positive(nameof(RefinerSamplePrompts), RefinerSamplePrompts)
            .InRange(nameof(RefinerSampleTemperature), RefinerSampleTemperature, 0, 10)
            .InRange(nameof(RefineShare), RefineShare, 0, 0.95)
            .InRange(nameof(RefinerYesShare), RefinerYesShare, 0.05, 0.95)
            .Require(RftYesShare is null or (>= 0.05 and <= 0.95), $"{nameof(RftYesShare)} must be between 0.05 and 0.95, or null for {nameof(RefinerYesShare)} (got {RftYesShare})")
            .InRange(nameof(RefinerTeacherShare), RefinerTeacherShare, 0, 0.95)
            .NonNegative(nameof(VerdictWeight), VerdictWeight)
            .NonNegative(nameof(RftVerdictWeight), RftVerdictWeight)
            .NonNegative(nameof(FrozenJudgeCases), FrozenJudgeCases)
            .Require(Enum.IsDefined(RftVotes), $"{nameof(RftVotes)} must be Majority, NonUnanimous or Unanimous (got {RftVotes})")
            .Positive(nameof(IterationPrompts), IterationPrompts)
            .InRange(nameof(SamplesPerPrompt), SamplesPerPrompt, 1, 64)
            .InRange(nameof(ActorTemperature), ActorTemperature, 0, 10)
            .InRange(nameof(RefinerTemperature), RefinerTemperature, 0, 10)
            .InRange(nameof(GenerationBatch), GenerationBatch, 1, 4096)
            .Positive(nameof(ActorMaxNewTokens), ActorMaxNewTokens)
            .Positive(nameof(JudgeMaxNewTokens), JudgeMaxNewTokens)
            .Positive(nameof(RefineMaxNewTokens), RefineMaxNewTokens)
            .Positive(nameof(HeldOutCount), HeldOutCount)
            .Require(JudgeEvalCases >= 2 && JudgeEvalCases % 2 == 0, $"{nameof(JudgeEvalCases)} must be even and at least 2 (got {JudgeEvalCases})")
            .Require(JudgeEvalActorCases >= 0 && JudgeEvalActorCases % 2 == 0, $"{nameof(JudgeEvalActorCases)} must be even and at least 0 (got {JudgeEvalActorCases})")
            .InRange(nameof(EvalVotes), EvalVotes, 1, 64)
            .InRange(nameof(EvalVoteTemperature), EvalVoteTemperature, 0, 10)
            .Positive(nameof(RefineEvalCases), RefineEvalCases)
            .Require(Enum.IsDefined(RefinerInit), $"{nameof(RefinerInit)} must be FromActor or Fresh (got {RefinerInit})");
        return problems
            .Nested(nameof(ActorSft), ActorSft).Nested(nameof(RefinerSft), RefinerSft)
            .Nested(nameof(Dpo), Dpo).Nested(nameof(Rft), Rft).Nested(nameof(RftCaps), RftCaps)
            .Nested(nameof(RefinementSft), RefinementSft).Nested(nameof(JudgeDpo), JudgeDpo)
            .Nested(nameof(InitialVoting), InitialVoting).Nested(nameof(TreeVoting), TreeVoting)
            .Nested(nameof(TreeSearch), TreeSearch)
            .Nested(nameof(Composer), Composer);
    }
}
