using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using SparOrleans.Engine.Model;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using SparOrleans.Simulator;
using SparOrleans.World.Teaching;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The experiments on trained models (`judgment`, `scaling`) against tiny random checkpoints: the figures are chance
/// level, so these check the commands' wiring and outputs; the measured figures are in docs/results.md.
/// </summary>
public sealed class ExperimentModelsCommandTests() : ExperimentFolder("models")
{
    /// <summary>
    /// A run folder with random tiny refiner-0..n-1 (and actor-0), as `spar run` lays them out; refiner-0 carries a
    /// hand-made frozen set of 4 held-out cases (two teacher answers that follow, two that fail), <paramref name="sampleShift"/>
    /// changing which answers it holds. Refiner-0's weights do not depend on the run: the runs share R_0.
    /// </summary>
    private string FakeRun(int refiners, string name = "run", int sampleShift = 0)
    {
        var run = Path.Combine(Dir, name);
        for (var t = 0; t < refiners; t++)
        {
            using var model = LanguageModel.CreateByteLevel(hiddenSize: 32, layers: 1, heads: 2, seed: t == 0 ? 0 : t + 10 * name.Length);
            ModelCheckpoint.Save(model, Path.Combine(run, "models", $"refiner-{t}"));
        }
        var seed = FrozenJudgeSet.PromptSeedFor(SimulatorOptions.Default.HeldOutSeed);
        var prompts = Evaluation.HeldOutPrompts(4, seed);
        FrozenJudgeSet.FromSamples(prompts, [.. prompts.Select((p, i) => (i + sampleShift) % 2 == 0 ? Teacher.Answer(p, i) : Teacher.Flawed(p, 1, i)?.Response ?? "x")], seed, 0.9)
            .Save(Path.Combine(run, "models", "refiner-0"));
        using var actor = LanguageModel.CreateByteLevel(hiddenSize: 32, layers: 1, heads: 2, seed: 9);
        ModelCheckpoint.Save(actor, Path.Combine(run, "models", "actor-0"));
        return run;
    }

    [Fact]
    public async Task Judgment_TwoRuns_EachRunASeedOnTheSharedFrozenSetAndItsSection()
    {
        var (a, b) = (FakeRun(refiners: 2, name: "run-a"), FakeRun(refiners: 2, name: "run-bb"));

        var (code, output, error) = await Spar("experiment", "judgment", "--run", a, b, "--teacher-cases", "2", "--max-votes", "3",
            "--output", Output("judgment"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var result = JsonDocument.Parse(output).RootElement.GetProperty("result");
        Assert.True(result.GetProperty("seeds_are_runs").GetBoolean());
        Assert.Equal(4, result.GetProperty("cases").GetProperty("count").GetInt32());
        Assert.Equal(2, result.GetProperty("cases").GetProperty("following").GetInt32());
        var seeds = result.GetProperty("seeds").EnumerateArray().ToList();
        Assert.Equal(["run-a", "run-bb"], seeds.Select(s => s.GetProperty("name").GetString()));
        foreach (var seed in seeds)
        {
            var greedy = seed.GetProperty("greedy").EnumerateArray().ToList();
            Assert.Equal(2, greedy.Count);
            Assert.All(greedy, g => Assert.Equal(4, g.GetProperty("correct").GetString()!.Length));
            Assert.All(seed.GetProperty("teacher").EnumerateArray(), t => Assert.Equal(2, t.GetProperty("cases").GetInt32()));
            Assert.Equal(2, seed.GetProperty("final_votes").GetArrayLength());
        }
        // R_0 is judged once: the same greedy verdicts in both runs.
        Assert.Equal(seeds[0].GetProperty("greedy")[0].GetProperty("correct").GetString(), seeds[1].GetProperty("greedy")[0].GetProperty("correct").GetString());
        Assert.Contains("| Refiner | Greedy | Voting@1 | Voting@3 |", File.ReadAllText(Path.Combine(Output("judgment"), "table.md")));
        Assert.True(new FileInfo(Path.Combine(Output("judgment"), "judgment.png")).Length > 1000);
        var results = File.ReadAllText(ResultsMd);
        Assert.Contains("## 5. Judgment per iteration and majority voting (Tables 2, 9)", results);
        Assert.Contains("`spar experiment judgment --run run-a --run run-bb --teacher-cases 2 --max-votes 3`", results);
        Assert.Contains("R_0's frozen set, 4 cases of M_0's own answers (sampled at T 0.9) on held-out prompts, labelled by the verifiers, 50.0% following", results);
        Assert.Matches("The final refiner judges the frozen set more accurately than R_0 \\(greedy, across runs\\): \\*\\*(reproduced|not reproduced)\\*\\* \\(paired t over 2 seeds", results);
        Assert.Matches("The final refiner judges more frozen cases right than R_0 \\(greedy, run-bb\\): \\*\\*(reproduced|not reproduced)\\*\\* \\(McNemar exact over 4 cases", results);
    }

    [Fact]
    public async Task Judgment_RunsWithDifferentFrozenSets_ExitWithUserErrorAndWriteNothing()
    {
        var (a, b) = (FakeRun(refiners: 1, name: "run-a"), FakeRun(refiners: 1, name: "run-b", sampleShift: 1));

        var (code, _, error) = await Spar("experiment", "judgment", "--run", a, "--run", b, "--output", Output("judgment"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
        Assert.Contains("run-a and run-b have different frozen judge sets", error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Fact]
    public async Task Judgment_RunWithoutFrozenSet_ExitsWithUserErrorNamingTheFile()
    {
        var run = FakeRun(refiners: 1);
        File.Delete(Path.Combine(run, "models", "refiner-0", FrozenJudgeSet.FileName));

        var (code, _, error) = await Spar("experiment", "judgment", "--run", run, "--output", Output("judgment"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Trim().Split('\n'), line => line.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("has no judge_eval.json", error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Fact]
    public async Task Judgment_FromResults_RewritesTheSameTableAndSectionWithoutModels()
    {
        var run = FakeRun(refiners: 2);
        await Spar("experiment", "judgment", "--run", run, "--seeds", "1", "--cases", "2", "--teacher-cases", "0", "--max-votes", "1",
            "--output", Output("judgment"), "--results", ResultsMd);
        var table = File.ReadAllText(Path.Combine(Output("judgment"), "table.md"));
        var section = File.ReadAllText(ResultsMd);
        Directory.Delete(run, recursive: true);

        File.Delete(Path.Combine(Output("judgment"), "table.md"));
        var (code, _, error) = await Spar("experiment", "judgment", "--from-results", Path.Combine(Output("judgment"), "results.json"),
            "--output", Output("judgment"), "--results", Path.Combine(Dir, "again.md"));

        Assert.True(code == ExitCodes.Success, error);
        Assert.Equal(table, File.ReadAllText(Path.Combine(Output("judgment"), "table.md")));
        Assert.Equal(section, File.ReadAllText(Path.Combine(Dir, "again.md")));
        Assert.Contains("`spar experiment judgment --run run --seeds 1 --cases 2 --teacher-cases 0 --max-votes 1`", section);
    }

    [Fact]
    public async Task Judgment_FromResultsOfTheTeacherCaseExperiment_ExitsWithUserError()
    {
        var file = Path.Combine(Dir, "old.json");
        File.WriteAllText(file, """{"result": {"options": {"seeds": 3, "cases": 60}, "refiners": [], "seconds": 1}, "source": "s"}""");

        var (code, _, error) = await Spar("experiment", "judgment", "--from-results", file, "--output", Output("judgment"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("before it judged R_0's frozen set", error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Theory]
    [InlineData("missing.json", null)]
    [InlineData("broken.json", "{ not json")]
    [InlineData("other.json", "{\"results\": []}")]
    public async Task Scaling_FromResultsThatAreNotItsOwn_ExitsWithUserError(string name, string? content)
    {
        var file = Path.Combine(Dir, name);
        if (content is not null)
        {
            File.WriteAllText(file, content);
        }

        var (code, _, error) = await Spar("experiment", "scaling", "--from-results", file, "--output", Output("scaling"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
        Assert.Contains(name, error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Fact]
    public async Task Judgment_FolderWithoutRefiners_ExitsWithUserErrorAndWritesNothing()
    {
        var (code, _, error) = await Spar("experiment", "judgment", "--run", Dir, "--output", Output("judgment"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
        Assert.Contains("refiner-T", error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Theory]
    [InlineData(0.60, 0.50, "scores above greedy decoding")]
    [InlineData(0.40, 0.50, "scores below greedy decoding")]
    [InlineData(0.51, 0.50, "scores level with greedy decoding")]
    public void ScalingReading_SampledAgainstGreedy_SaysWhichWayItLies(double sampled, double greedy, string says)
    {
        // Five seeds: with two, a one-sided t test cannot tell 10 points from greedy at p < 0.05 with this spread.
        static SeedStat Stat(double mean) => SeedStat.Of([mean - 0.02, mean - 0.01, mean, mean + 0.01, mean + 0.02]);
        static ScalingPoint Point(int n, double average) => new(n, Stat(0.3), Stat(0.5), Stat(average), Stat(0.4));
        var bestOfN = new ScalingCurve("best-of-n", [Point(1, sampled), Point(2, sampled)], Stat(2), Stat(6));
        var tree = new ScalingCurve("tree-search", [Point(1, greedy), Point(2, greedy)], Stat(1.5), Stat(5));
        var result = new ScalingResult(new ScalingOptions(Seeds: 5, MaxGenerations: 2), "m", SeedStat.Of([greedy, greedy, greedy, greedy, greedy]), bestOfN, tree, Stat(0.8), 1);

        var reading = ScalingReport.Reading(result);

        Assert.Contains(says, reading);
        Assert.Contains("the responses hold better answers than the judge picks", reading);
    }

    [Fact]
    public void Run_TenIterations_OrdersRefinersByIterationNotByName()
    {
        var run = Path.Combine(Dir, "run");
        foreach (var t in new[] { 10, 2, 0 })
        {
            var dir = Directory.CreateDirectory(Path.Combine(run, "models", $"refiner-{t}")).FullName;
            File.WriteAllText(Path.Combine(dir, ModelCheckpoint.ConfigFile), "{}");
        }
        Directory.CreateDirectory(Path.Combine(run, "models", "refiner-3.tmp-1"));

        Assert.Equal(["refiner-0", "refiner-2", "refiner-10"], JudgmentExperiment.Run(run).Refiners.Select(Path.GetFileName));
    }

    [Fact]
    public async Task Scaling_TinyModels_WritesBothCurvesAtEveryBudgetAndItsSection()
    {
        var run = FakeRun(refiners: 1);

        var (code, output, error) = await Spar("experiment", "scaling", "--actor", Path.Combine(run, "models", "actor-0"),
            "--refiner", Path.Combine(run, "models", "refiner-0"), "--seeds", "2", "--prompts", "2", "--generations", "4", "--votes", "1",
            "--output", Output("scaling"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var result = JsonDocument.Parse(output).RootElement.GetProperty("result");
        foreach (var strategy in new[] { "best_of_n", "tree_search" })
        {
            var points = result.GetProperty(strategy).GetProperty("points").EnumerateArray().ToList();
            Assert.Equal([1, 2, 4], points.Select(p => p.GetProperty("generations").GetInt32()));
            Assert.All(points, p => Assert.Equal(2, p.GetProperty("average").GetProperty("per_seed").GetArrayLength()));
            // A larger budget only adds candidates: the perfect-judge ceiling never falls.
            var ceiling = points.Select(p => p.GetProperty("oracle").GetProperty("mean").GetDouble()).ToList();
            Assert.Equal(ceiling.Order(), ceiling);
        }
        Assert.Equal(4, result.GetProperty("best_of_n").GetProperty("responses_per_prompt").GetProperty("mean").GetDouble());
        Assert.True(new FileInfo(Path.Combine(Output("scaling"), "scaling.png")).Length > 1000);
        Assert.Contains("## 6. Inference-time scaling (Figure 5)", File.ReadAllText(ResultsMd));
    }

    [Fact]
    public async Task Scaling_ActorWithoutRefiner_ExitsWithUserErrorNamingBoth()
    {
        var run = FakeRun(refiners: 1);

        var (code, _, error) = await Spar("experiment", "scaling", "--actor", Path.Combine(run, "models", "actor-0"),
            "--output", Output("scaling"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("--actor and --refiner", error);
        Assert.False(File.Exists(ResultsMd));
    }
}
