using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public sealed class ExperimentPairsCommandTests() : ExperimentFolder("pairs")
{
    [Fact]
    public async Task Pairs_FewSteps_WritesCurvesOfBothKindsTablePlotAndASectionBeforeHigherNumbers()
    {
        File.WriteAllText(ResultsMd, ExperimentCommand.Header + "\n## 4. Refinement strategies at equal budget (Table 10)\n\nkept line\n");

        var (code, output, error) = await Spar("experiment", "pairs", "--task", "letters", "--seeds", "2", "--steps", "4", "--eval-every", "2", "--sft-steps", "4",
            "--output", Output("pairs"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var run = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("letters", run.GetProperty("task").GetString());
        var curves = run.GetProperty("curves").EnumerateArray().ToList();
        Assert.Equal(["refinement", "interfering"], curves.Select(c => c.GetProperty("kind").GetString()));
        foreach (var curve in curves)
        {
            Assert.Equal([0, 2, 4], curve.GetProperty("steps").EnumerateArray().Select(s => s.GetInt32()));
            foreach (var figure in new[] { "accuracy", "factor" })
            {
                var points = curve.GetProperty(figure).EnumerateArray().ToList();
                Assert.Equal(3, points.Count);
                Assert.All(points, p => Assert.Equal(2, p.GetProperty("per_seed").GetArrayLength()));
                Assert.All(points.SelectMany(p => p.GetProperty("per_seed").EnumerateArray()), v => Assert.InRange(v.GetDouble(), 0, 1));
            }
        }
        // Both kinds start from the same SFT'd model: identical figures at step 0.
        Assert.Equal(curves[0].GetProperty("accuracy")[0].GetRawText(), curves[1].GetProperty("accuracy")[0].GetRawText());
        Assert.Equal(curves[0].GetProperty("factor")[0].GetRawText(), curves[1].GetProperty("factor")[0].GetRawText());

        Assert.Contains("| DPO step | Accuracy: refinement |", File.ReadAllText(Path.Combine(Output("pairs"), "table.md")));
        Assert.True(new FileInfo(Path.Combine(Output("pairs"), "letters.png")).Length > 1000);
        var results = File.ReadAllText(ResultsMd);
        var section = results.IndexOf("## 1. Refinement vs interfering pairs (Figure 4)", StringComparison.Ordinal);
        Assert.InRange(section, 0, results.IndexOf("## 4. Refinement strategies", StringComparison.Ordinal));
        Assert.Contains("kept line", results);
        Assert.Matches("\\*\\*(reproduced|not reproduced)\\*\\*", results);

        // The stored results re-render to the same table and section without training anything.
        var table = File.ReadAllText(Path.Combine(Output("pairs"), "table.md"));
        File.Delete(Path.Combine(Output("pairs"), "table.md"));
        var (again, _, againError) = await Spar("experiment", "pairs", "--from-results", Path.Combine(Output("pairs"), "results.json"),
            "--output", Output("pairs"), "--results", ResultsMd);
        Assert.True(again == ExitCodes.Success, againError);
        Assert.Equal(table, File.ReadAllText(Path.Combine(Output("pairs"), "table.md")));
        Assert.Equal(results, File.ReadAllText(ResultsMd));
    }

    [Fact]
    public async Task Pairs_StoryTask_WritesItsCurvesWithoutAFactorColumn()
    {
        var (code, output, error) = await Spar("experiment", "pairs", "--task", "story", "--seeds", "1", "--steps", "2", "--eval-every", "2",
            "--sft-steps", "2", "--output", Output("pairs"), "--results", ResultsMd, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        var run = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("story", run.GetProperty("task").GetString());
        Assert.False(run.TryGetProperty("factor_name", out var factor) && factor.ValueKind != JsonValueKind.Null, "the story task has no factor measure");
        var table = File.ReadAllText(Path.Combine(Output("pairs"), "table.md"));
        Assert.Contains("| DPO step | Accuracy: refinement | Accuracy: interfering |\n", table.Replace("\r\n", "\n"));
        Assert.True(new FileInfo(Path.Combine(Output("pairs"), "story.png")).Length > 1000);
        Assert.Matches("Story: interfering pairs end below the start model.*\\*\\*(reproduced|not reproduced)\\*\\*", File.ReadAllText(ResultsMd));
    }

    [Fact]
    public async Task Pairs_UnknownTask_ExitsWithUserError()
    {
        var (code, _, error) = await Spar("experiment", "pairs", "--task", "poems", "--output", Output("pairs"), "--results", ResultsMd);

        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains("poems", error);
        Assert.False(File.Exists(ResultsMd));
    }

    [Theory]
    [InlineData("--seeds", "0", "Seeds")]
    [InlineData("--eval-every", "0", "EvalEvery")]
    [InlineData("--lr", "-1", "DpoLearningRate")]
    public async Task Pairs_OutOfRangeOption_ExitsWithUserErrorNamingIt(string option, string value, string name)
    {
        var (code, _, error) = await Spar("experiment", "pairs", option, value, "--output", Output("pairs"), "--results", ResultsMd);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error:", error.Trim());
        Assert.Contains(name, error);
        Assert.False(File.Exists(ResultsMd));
    }
}
