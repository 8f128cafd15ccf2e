using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Options;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Experiments;

/// <summary>
/// One way of training in the loop: SPaR, a baseline of Table 1, or an ablation of Table 4, as the
/// <see cref="PairSource"/>, refinement policy and iteration plan of a <c>spar run</c>.
/// </summary>
/// <param name="OneRound">The "w/o iterative training" ablation: one iteration on all iterations' prompts at once.</param>
public sealed record LoopVariant(string Name, string Label, PairSource Pairs, string Policy = "bfs", bool OneRound = false);

public static class LoopVariants
{
    public static LoopVariant Spar { get; } = new("spar", "SPaR", PairSource.Refinement);

    public static LoopVariant SelfRewarding { get; } = new("self-rewarding", "Self-Rewarding", PairSource.SelfRewarding);

    public static LoopVariant MetaRewarding { get; } = new("meta-rewarding", "Meta-Rewarding", PairSource.MetaRewarding);

    public static LoopVariant Self { get; } = new("self", "SELF", PairSource.SelfRefine);

    public static LoopVariant NoTreeSearch { get; } = new("no-tree-search", "w/o Tree Search", PairSource.Refinement, Policy: "greedy");

    public static LoopVariant NoIterativeTraining { get; } = new("no-iterative-training", "w/o Iterative Training", PairSource.Refinement, OneRound: true);

    public static LoopVariant NoRefinement { get; } = new("no-refinement", "w/o Refinement", PairSource.Interfering);

    /// <summary>Table 1 / Figure 3: SPaR against the baselines, from the same M_0/R_0 and prompt budget.</summary>
    public static IReadOnlyList<LoopVariant> Baselines { get; } = [Spar, SelfRewarding, MetaRewarding, Self];

    /// <summary>Table 4 (and 5's refiner side): SPaR against itself without one element.</summary>
    public static IReadOnlyList<LoopVariant> Ablations { get; } = [Spar, NoTreeSearch, NoIterativeTraining, NoRefinement];

    public static IReadOnlyList<LoopVariant> All { get; } = [.. Baselines, .. Ablations.Skip(1)];

    public static LoopVariant ByName(string name) =>
        All.FirstOrDefault(v => v.Name == name)
        ?? throw new ArgumentException($"Unknown variant '{name}': use one of {string.Join(", ", All.Select(v => v.Name))}.", nameof(name));
}

/// <summary>
/// Sizes of a loop experiment. <see cref="Preset"/> "default" is <c>spar run</c>'s model, bootstrap and iteration
/// settings (so its cached M_0/R_0 are reused) with <see cref="Prompts"/> prompts per iteration (default 16, a quarter
/// of <c>spar run</c>'s, so that one run takes 1–2 minutes on 2 cores and a table of 4 methods × 5 seeds about half an hour to an hour) and 40 judge cases
/// instead of 160 (the actor's 200 held-out prompts stay: they are the headline); "tiny" is the smoke-test world of
/// the tests.
/// </summary>
/// <param name="ModelSeed">Seed of the shared M_0/R_0 (every variant and seed starts from them).</param>
/// <param name="Overlay">
/// Simulator options laid over the preset in every run (<c>--options FILE</c>'s JSON object, as <c>spar run</c>'s), so a
/// lever such as <c>{"RftVotes": "Unanimous"}</c> is measured over seeds; runs differ by name from the preset's. Loop
/// options only keep the cached M_0/R_0; bootstrap options train new ones.
/// </param>
public sealed record LoopExperimentOptions(
    IReadOnlyList<LoopVariant> Variants,
    int Seeds = 5,
    int Iterations = 3,
    int Prompts = 16,
    string Preset = "default",
    int ModelSeed = 1,
    string? Overlay = null) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .Require(Variants.Count > 0, "at least one variant is needed")
        .InRange(nameof(Seeds), Seeds, 1, 20)
        .InRange(nameof(Iterations), Iterations, 1, 10)
        .InRange(nameof(Prompts), Prompts, 1, 10_000)
        .Require(Preset is "default" or "tiny", $"{nameof(Preset)} must be default or tiny (got {Preset})")
        .Require(Overlay is null || IsJsonObject(Overlay), $"{nameof(Overlay)} must be one JSON object (got {Overlay})");

    private static bool IsJsonObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) is JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The simulator options of one variant's run at one seed.</summary>
    public SimulatorOptions Simulator(LoopVariant variant, int seed)
    {
        var preset = SimulatorOptions.Preset(Preset);
        if (Overlay is not null)
        {
            preset = OptionsFile.Overlay(preset, JsonNode.Parse(Overlay)!.AsObject(), "--options");
        }
        return (Preset == "tiny" ? preset : preset with { JudgeEvalCases = 40, JudgeEvalActorCases = 0 }) with
        {
            Seed = seed,
            BootstrapSeed = ModelSeed,
            IterationPrompts = variant.OneRound ? Prompts * Iterations : Prompts,
        };
    }

    /// <summary>The run of one variant at one seed; its id names the variant, the seed and a hash of everything else.</summary>
    public RunSpec Spec(LoopVariant variant, int seed, Func<string, string> outputDirectory)
    {
        var options = Simulator(variant, seed);
        var iterations = variant.OneRound ? 1 : Iterations;
        var json = RunOptions.ToJson(options);
        var key = Hash(new { Options = json, iterations, variant.Policy, variant.Pairs, options.SamplesPerPrompt, Preset });
        var id = $"exp-{variant.Name}-s{seed}-{key}";
        return new RunSpec(id, outputDirectory(id), seed, iterations, options.IterationPrompts, variant.Policy, Preset,
            json, options.SamplesPerPrompt, variant.Pairs);
    }

    private static string Hash(object value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value))))[..8];
}

/// <summary>One finished run of the experiment: its per-iteration reports (entry 0 is M_0/R_0).</summary>
public sealed record LoopRun(string Variant, int Seed, string RunId, IReadOnlyList<IterationReport> Reports, bool Reused);

/// <summary>A variant's figures over seeds at one point of training (iteration or, for one round, its equivalent).</summary>
/// <param name="Iteration">The iteration whose prompts it has seen: for one round, the iterations it stands for.</param>
/// <param name="Average">IFEval's average of P(S), I(S), P(L), I(L), the paper's "Avg.".</param>
public sealed record LoopPoint(int Iteration, SeedStat PromptStrict, SeedStat InstructionStrict, SeedStat PromptLoose, SeedStat InstructionLoose,
    SeedStat Average, SeedStat JudgeAccuracy, SeedStat JudgeF1, SeedStat DpoPairs);

public sealed record LoopVariantResult(LoopVariant Variant, IReadOnlyList<LoopPoint> Points, double MinutesPerRun)
{
    public LoopPoint Start => Points[0];

    public LoopPoint Final => Points[^1];
}

public sealed record LoopExperimentResult(LoopExperimentOptions Options, IReadOnlyList<LoopVariantResult> Variants, IReadOnlyList<LoopRun> Runs, double Seconds);

/// <summary>
/// Experiments 2 and 3 (paper Tables 1, 4, 5 and Figure 3): each variant is a real <c>spar run</c> on the embedded
/// silo (prompt and tree-node grains, batched generation, TorchSharp training) from the same M_0/R_0, per seed. Runs
/// are named by their settings and kept in the home, so an interrupted experiment resumes and variants shared by two
/// experiments (SPaR) run once.
/// </summary>
public static class LoopExperiment
{
    /// <param name="follow">Shows a started run's progress until it ends (the CLI's progress view) and returns its last status.</param>
    public static async Task<LoopExperimentResult> RunAsync(LoopExperimentOptions options, EmbeddedSilo silo, Func<string, string> outputDirectory,
        TextWriter log, Func<IAsyncEnumerable<RunStatus>, Task<RunStatus>> follow, CancellationToken cancellationToken)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var runs = new List<LoopRun>();
        var total = options.Variants.Count * options.Seeds;
        foreach (var seed in Enumerable.Range(1, options.Seeds))
        {
            foreach (var variant in options.Variants)
            {
                var spec = options.Spec(variant, seed, outputDirectory);
                var grain = silo.Client.GetGrain<IRunGrain>(spec.RunId);
                var status = await grain.GetStatusAsync();
                var reused = status.Status == RunStatusKind.Completed && status.Spec == spec;
                await log.WriteLineAsync($"[{runs.Count + 1}/{total}] {variant.Label}, seed {seed}: {spec.RunId}" +
                    (reused ? " (finished earlier: reused)" : status.Spec is null ? "" : " (resuming)"));
                if (!reused)
                {
                    status = status.Spec is null ? await grain.StartAsync(spec) : await grain.ResumeAsync();
                    status = await follow(RunFollower.FollowAsync(grain, cancellationToken));
                    if (status.Status != RunStatusKind.Completed)
                    {
                        throw new InvalidOperationException($"Run {spec.RunId} ({variant.Label}, seed {seed}) failed: {status.Error}. " +
                            "Running the experiment again resumes it.");
                    }
                }
                runs.Add(new LoopRun(variant.Name, seed, spec.RunId, status.Iterations, reused));
            }
        }
        return new LoopExperimentResult(options, Aggregate(options, runs), runs, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Per variant and iteration, the figures over seeds. A one-round variant's single iteration stands at the last
    /// iteration (it has seen every iteration's prompts), so final points compare at equal data.
    /// </summary>
    public static IReadOnlyList<LoopVariantResult> Aggregate(LoopExperimentOptions options, IReadOnlyList<LoopRun> runs) =>
        options.Variants.Select(variant =>
        {
            var mine = runs.Where(r => r.Variant == variant.Name).OrderBy(r => r.Seed).ToList();
            var steps = mine.Min(r => r.Reports.Count);
            var points = Enumerable.Range(0, steps).Select(i =>
            {
                SeedStat Of(Func<IterationReport, double> value) => SeedStat.Of(mine.Select(r => value(r.Reports[i])).ToList());
                var iteration = variant.OneRound && i > 0 ? options.Iterations : i;
                return new LoopPoint(iteration,
                    Of(r => r.ActorHeldout.PromptStrict), Of(r => r.ActorHeldout.InstructionStrict),
                    Of(r => r.ActorHeldout.PromptLoose), Of(r => r.ActorHeldout.InstructionLoose),
                    Of(r => (r.ActorHeldout.PromptStrict + r.ActorHeldout.InstructionStrict + r.ActorHeldout.PromptLoose + r.ActorHeldout.InstructionLoose) / 4),
                    Of(r => r.RefinerJudgment.Accuracy), Of(r => r.RefinerJudgment.F1), Of(r => r.DpoPairs));
            }).ToList();
            var minutes = mine.Average(r => r.Reports.Skip(1).Sum(x => x.Seconds)) / 60;
            return new LoopVariantResult(variant, points, minutes);
        }).ToList();
}
