using System.Text.Json;
using System.Text.RegularExpressions;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Datasets;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Interfaces.Runs;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// `spar experiment baselines|ablations` on the tiny preset: real loop runs of every variant on the embedded silo. The
/// tiny models score near zero, so these check the wiring, outputs and resumption; measured figures are in docs/results.md.
/// </summary>
public sealed class ExperimentLoopCommandTests() : ExperimentFolder("loop")
{
    private string Home => Path.Combine(Dir, "home");

    private Task<(int Code, string Output, string Error)> Experiment(string name, params string[] more) =>
        Spar(["experiment", name, "--preset", "tiny", "--seeds", "2", "--iterations", "2", "--prompts", "2", "--home", Home,
            "--output", Output(name), "--results", ResultsMd, "--format", "json", .. more]);

    [Fact]
    public async Task Baselines_Tiny_RunsEveryVariantPerSeedFromOneBootstrapAndWritesItsSection()
    {
        var (code, output, error) = await Experiment("baselines");

        Assert.True(code == ExitCodes.Success, error);
        var result = JsonDocument.Parse(output).RootElement.GetProperty("result");
        var runs = result.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(8, runs.Count);
        Assert.Equal(["spar", "self-rewarding", "meta-rewarding", "self"],
            runs.Select(r => r.GetProperty("variant").GetString()!).Distinct());
        Assert.All(runs, r => Assert.Equal(3, r.GetProperty("reports").GetArrayLength()));
        // Every variant and seed starts from the same M_0: its held-out answers, so its scores, are identical.
        var starts = runs.Select(r => r.GetProperty("reports")[0].GetProperty("actor_heldout").GetRawText()).Distinct().ToList();
        Assert.Single(starts);
        var variants = result.GetProperty("variants").EnumerateArray().ToList();
        Assert.All(variants, v => Assert.Equal([0, 1, 2], v.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("iteration").GetInt32())));
        Assert.Contains("| Meta-Rewarding | 75.4 | 82.3 |", File.ReadAllText(Path.Combine(Output("baselines"), "table.md")));
        Assert.True(new FileInfo(Path.Combine(Output("baselines"), "baselines.png")).Length > 1000);
        var results = File.ReadAllText(ResultsMd);
        Assert.Contains("## 2. SPaR vs baselines over 3 iterations (Table 1, Figure 3)", results);
        Assert.Matches("SPaR ends above SELF: \\*\\*(reproduced|not reproduced)\\*\\* \\(paired t over 2 seeds: [+−]?[0-9.]+ points, 95% CI \\[[^]]+\\], one-sided p [=<] [0-9.]+; sign-flip p [=<] [0-9.]+; Holm p [=<] [0-9.]+; under 5 seeds: underpowered\\)", results);
        // The reading's conclusion must agree with the verdict on M_0, whichever way the tiny run went.
        var improves = Regex.Match(results, "SPaR improves on M_0: \\*\\*(reproduced|not reproduced)\\*\\*").Groups[1].Value;
        Assert.NotEqual("", improves);
        Assert.Equal(improves == "reproduced", results.Contains("the DPO rounds add up to a gain over M_0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ablations_AfterBaselines_ReusesSparRunsAndPlacesOneRoundAtTheLastIteration()
    {
        await Experiment("baselines", "--variants", "spar");

        var (code, output, error) = await Experiment("ablations");

        Assert.True(code == ExitCodes.Success, error);
        var result = JsonDocument.Parse(output).RootElement.GetProperty("result");
        var runs = result.GetProperty("runs").EnumerateArray().ToList();
        Assert.All(runs, r => Assert.Equal(r.GetProperty("variant").GetString() == "spar", r.GetProperty("reused").GetBoolean()));
        var oneRound = result.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant").GetProperty("name").GetString() == "no-iterative-training");
        Assert.Equal([0, 2], oneRound.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("iteration").GetInt32()));
        Assert.All(runs.Where(r => r.GetProperty("variant").GetString() == "no-iterative-training"), r => Assert.Equal(2, r.GetProperty("reports").GetArrayLength()));
        var section = File.ReadAllText(ResultsMd);
        Assert.Contains("## 3. Ablations (Tables 4–5)", section);
        Assert.Matches("Table 5: SPaR's final refiner judges better than w/o Tree Search's: \\*\\*(reproduced|not reproduced)\\*\\* \\(paired t", section);
        Assert.Contains("(one round: from 4)", section);
        Assert.Contains("| w/o Refinement | −2.6 | −1.6 |", File.ReadAllText(Path.Combine(Output("ablations"), "table.md")));
    }

    [Fact]
    public async Task Baselines_FromResults_RewritesTheSameTableAndSectionWithoutRunning()
    {
        await Experiment("baselines", "--variants", "spar,self");
        var table = File.ReadAllText(Path.Combine(Output("baselines"), "table.md"));
        var section = File.ReadAllText(ResultsMd);
        Directory.Delete(Home, recursive: true);

        var (code, _, error) = await Spar("experiment", "baselines", "--from-results", Path.Combine(Output("baselines"), "results.json"),
            "--output", Output("baselines"), "--results", Path.Combine(Dir, "again.md"));

        Assert.True(code == ExitCodes.Success, error);
        Assert.Equal(table, File.ReadAllText(Path.Combine(Output("baselines"), "table.md")));
        Assert.Equal(section, File.ReadAllText(Path.Combine(Dir, "again.md")));
    }

    [Theory]
    [InlineData("--variants", "no-tree-search", "is not a variant of baselines")]
    [InlineData("--seeds", "0", "Seeds")]
    [InlineData("--prompts", "0", "Prompts")]
    public async Task Baselines_BadInput_ClearErrorWithoutRunning(string option, string value, string message)
    {
        var (code, _, error) = await Spar("experiment", "baselines", "--preset", "tiny", option, value, "--home", Home,
            "--output", Output("baselines"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Home));
    }

    [Fact]
    public void Aggregate_OneRoundVariant_StandsAtTheLastIterationWithPerSeedStats()
    {
        var options = new LoopExperimentOptions([LoopVariants.Spar, LoopVariants.NoIterativeTraining], Seeds: 2, Iterations: 3);
        static IterationReport Report(int t, double promptStrict) =>
            new(t, new ActorScores(promptStrict, 0.5, promptStrict, 0.5), new JudgeScores(0.4, 0.5), null, null, 2 * t, 0, 60, new Dictionary<string, double>(), 4, 0, 0);
        var runs = new List<LoopRun>
        {
            new("spar", 1, "a", [Report(0, 0.1), Report(1, 0.2), Report(2, 0.2), Report(3, 0.3)], false),
            new("spar", 2, "b", [Report(0, 0.1), Report(1, 0.2), Report(2, 0.2), Report(3, 0.5)], false),
            new("no-iterative-training", 1, "c", [Report(0, 0.1), Report(1, 0.2)], false),
            new("no-iterative-training", 2, "d", [Report(0, 0.1), Report(1, 0.4)], false),
        };

        var variants = LoopExperiment.Aggregate(options, runs);

        Assert.Equal([0, 1, 2, 3], variants[0].Points.Select(p => p.Iteration));
        Assert.Equal([0, 3], variants[1].Points.Select(p => p.Iteration));
        Assert.Equal([0.3, 0.5], variants[0].Final.PromptStrict.PerSeed);
        Assert.Equal(0.4, variants[0].Final.PromptStrict.Mean, 9);
        Assert.Equal((0.4 + 0.5 + 0.4 + 0.5) / 4, variants[0].Final.Average.Mean, 9);
        Assert.Equal(SeedStat.Of([0.2, 0.4]).Std, variants[1].Final.PromptStrict.Std, 9);
        Assert.Equal(3.0, variants[0].MinutesPerRun, 9);
    }

    [Fact]
    public void Claims_RunsCarryTheFrozenSet_OneMcNemarClaimPerSeedOnTheSameCases()
    {
        var options = new LoopExperimentOptions([LoopVariants.Spar], Seeds: 2, Iterations: 1);
        static IterationReport Report(int t, string frozen) =>
            new(t, new ActorScores(0.4, 0.5, 0.4, 0.5), new JudgeScores(0.5, 0.5, FrozenCorrect: frozen), null, null, 0, 0, 60, new Dictionary<string, double>(), 4, 0, 0);
        // Seed 1: R_1 alone right on 12 cases, R_0 alone on none (exact one-sided p = 2^-12); seed 2: no change.
        var start = new string('0', 12) + new string('1', 8);
        var runs = new List<LoopRun>
        {
            new("spar", 1, "a", [Report(0, start), Report(1, new string('1', 20))], false),
            new("spar", 2, "b", [Report(0, start), Report(1, start)], false),
        };
        var result = new LoopExperimentResult(options, LoopExperiment.Aggregate(options, runs), runs, 1);

        var perSeed = LoopReport.Baselines.Claims(result).Where(c => c.Statement.Contains("frozen cases")).ToList();

        Assert.Equal(2, perSeed.Count);
        Assert.Contains("(seed 1)", perSeed[0].Statement);
        Assert.Equal(Math.Pow(2, -12), perSeed[0].Outcome.P!.Value, 12);
        Assert.True(perSeed[0].Holds);
        Assert.False(perSeed[1].Holds);
    }

    [Fact]
    public void Spec_SameSettings_SameRunIdAndOtherSettings_AnotherRunId()
    {
        var options = new LoopExperimentOptions(LoopVariants.Baselines);
        string Id(LoopExperimentOptions o, LoopVariant v, int seed) => o.Spec(v, seed, id => id).RunId;

        Assert.Equal(Id(options, LoopVariants.Spar, 1), Id(new LoopExperimentOptions(LoopVariants.Ablations), LoopVariants.Spar, 1));
        Assert.NotEqual(Id(options, LoopVariants.Spar, 1), Id(options, LoopVariants.Spar, 2));
        Assert.NotEqual(Id(options, LoopVariants.Spar, 1), Id(options with { Prompts = 32 }, LoopVariants.Spar, 1));
        Assert.NotEqual(Id(options, LoopVariants.Spar, 1), Id(options, LoopVariants.NoTreeSearch, 1));
        var oneRound = options.Spec(LoopVariants.NoIterativeTraining, 1, id => id);
        Assert.Equal((1, 3 * options.Prompts), (oneRound.Iterations, oneRound.PromptsPerIteration));
        Assert.Equal(1, options.Simulator(LoopVariants.Spar, 3).BootstrapSeed);
    }

    [Fact]
    public void Overlay_ChangesEveryRunsOptionsAndItsName_KeepsTheExperimentsOwn()
    {
        var options = new LoopExperimentOptions([LoopVariants.Spar], Prompts: 48);
        var lever = options with { Overlay = """{"RftVotes": "Unanimous", "Rft": {"LearningRate": 5e-5}}""" };

        var simulator = lever.Simulator(LoopVariants.Spar, 2);

        Assert.Equal((RftVotes.Unanimous, 5e-5, 48, 2), (simulator.RftVotes, simulator.Rft.LearningRate, simulator.IterationPrompts, simulator.Seed));
        Assert.Equal(options.Simulator(LoopVariants.Spar, 2).Rft with { LearningRate = 5e-5 }, simulator.Rft);
        // The preset's JSON and its hash are unchanged by options left at their defaults (RftCaps, RftOracle), so earlier runs keep their names.
        Assert.Equal(options.Spec(LoopVariants.Spar, 2, id => id).RunId, (options with { Overlay = """{"RftOracle": false}""" }).Spec(LoopVariants.Spar, 2, id => id).RunId);
        Assert.NotEqual(options.Spec(LoopVariants.Spar, 2, id => id).RunId, lever.Spec(LoopVariants.Spar, 2, id => id).RunId);
        Assert.NotEmpty((options with { Overlay = "[1]" }).Problems());
        Assert.Contains("unknown option 'Nope'", Assert.Throws<SparOrleans.Core.Errors.UserInputException>(() =>
            (options with { Overlay = """{"Nope": 1}""" }).Simulator(LoopVariants.Spar, 1)).Message);
    }
}
