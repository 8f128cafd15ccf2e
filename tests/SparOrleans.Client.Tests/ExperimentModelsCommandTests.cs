using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using SparOrleans.Engine.Model;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The experiments on trained models (`judgment`, `scaling`) against tiny random checkpoints: the figures are chance
/// level, so these check the commands' wiring and outputs; the measured figures are in docs/results.md.
/// </summary>
public sealed class ExperimentModelsCommandTests() : ExperimentFolder("models")
{
    /// <summary>A run folder with random tiny refiner-0..n-1 (and actor-0), as `spar run` lays them out.</summary>
    private string FakeRun(int refiners)
    {
        var run = Path.Combine(Dir, "run");
        for (var t = 0; t < refiners; t++)
        {
            using var model = LanguageModel.CreateByteLevel(hiddenSize: 32, layers: 1, heads: 2, seed: t);
            ModelCheckpoint.Save(model, Path.Combine(run, "models", $"refiner-{t}"));
        }
        using var actor = LanguageModel.CreateByteLevel(hiddenSize: 32, layers: 1, heads: 2, seed: 9);
        ModelCheckpoint.Save(actor, Path.Combine(run, "models", "actor-0"));
        return run;
    }

    [Fact]
    public async Task Judgment_RunWithTwoRefiners_ScoresEachRefinerPerVoteSizeAndWritesItsSection()
    {
        var run = FakeRun(refiners: 2);

        var (code, output, error) = await Spar("experiment", "judgment", "--run", run, "--seeds", "2", "--cases", "4", "--max-votes", "3",
            "--output", Output("judgment"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var refiners = JsonDocument.Parse(output).RootElement.GetProperty("result").GetProperty("refiners").EnumerateArray().ToList();
        Assert.Equal(["refiner-0", "refiner-1"], refiners.Select(r => r.GetProperty("label").GetString()));
        foreach (var refiner in refiners)
        {
            var votes = refiner.GetProperty("votes").EnumerateArray().ToList();
            Assert.Equal(2, votes.Count);
            Assert.All(votes, v => Assert.Equal(2, v.GetProperty("accuracy").GetProperty("per_seed").GetArrayLength()));
        }
        Assert.Contains("| Refiner | Greedy | Voting@1 | Voting@3 |", File.ReadAllText(Path.Combine(Output("judgment"), "table.md")));
        Assert.True(new FileInfo(Path.Combine(Output("judgment"), "judgment.png")).Length > 1000);
        var results = File.ReadAllText(ResultsMd);
        Assert.Contains("## 5. Judgment per iteration and majority voting (Tables 2, 9)", results);
        Assert.Matches("Iterations improve the refiner's judgment \\(voting@3, across seeds\\): \\*\\*(reproduced|not reproduced)\\*\\* \\(paired t over 2 seeds", results);
        // The greedy verdicts of both refiners on the same cases are paired case by case.
        Assert.Matches("Iterations improve the refiner's greedy judgment \\(same cases\\): \\*\\*(reproduced|not reproduced)\\*\\* \\(McNemar exact over 4 cases", results);
    }

    [Fact]
    public async Task Judgment_FromResults_RewritesTheSameTableAndSectionWithoutModels()
    {
        var run = FakeRun(refiners: 2);
        await Spar("experiment", "judgment", "--run", run, "--seeds", "1", "--cases", "2", "--max-votes", "1",
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
    [InlineData(0.3, 0.1, "mostly sampling that does, not the vote")]
    [InlineData(0.0, 0.0, "Nearly every verdict parses")]
    [InlineData(0.2, 0.2, "about equally often")]
    public void Reading_InvalidShares_ConclusionFollowsGreedyAgainstSampled(double greedyInvalid, double sampledInvalid, string conclusion)
    {
        static JudgingStat Stat(double invalid) =>
            new(SeedStat.Of([0.55, 0.6]), SeedStat.Of([0.6, 0.6]), SeedStat.Of([invalid, invalid]));
        var result = new JudgmentResult(new JudgmentOptions(Seeds: 2, MaxVotes: 3),
            [new RefinerJudging("refiner-0", Stat(greedyInvalid), [Stat(sampledInvalid), Stat(sampledInvalid)])], 1);

        var reading = JudgmentReport.Reading(result);

        Assert.Contains(conclusion, reading);
        Assert.Contains(FormattableString.Invariant($"refiner-0 {100 * greedyInvalid:F1}% / {100 * sampledInvalid:F1}%"), reading);
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
    public void RunRefiners_TenIterations_OrdersByIterationNotByName()
    {
        var run = Path.Combine(Dir, "run");
        foreach (var t in new[] { 10, 2, 0 })
        {
            var dir = Directory.CreateDirectory(Path.Combine(run, "models", $"refiner-{t}")).FullName;
            File.WriteAllText(Path.Combine(dir, ModelCheckpoint.ConfigFile), "{}");
        }
        Directory.CreateDirectory(Path.Combine(run, "models", "refiner-3.tmp-1"));

        Assert.Equal(["refiner-0", "refiner-2", "refiner-10"], JudgmentCommand.RunRefiners(run).Select(r => r.Label));
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
