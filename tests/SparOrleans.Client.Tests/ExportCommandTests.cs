using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Tests.Export;
using SparOrleans.Grains.Runs;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

[Collection(StoredRunCollection.Name)]
public sealed class ExportCommandTests(StoredRunFixture fixture) : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"spar-export-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Export_DpoTrl_WritesThePairsTheRunTrainedOn(int iteration)
    {
        var (count, lines) = await ExportAsync("dpo", "trl", iteration);

        var report = fixture.CompletedStatus.Iterations.Single(r => r.Iteration == iteration);
        Assert.True(count > 0, "the scripted run makes pairs");
        Assert.Equal(report.DpoPairs, count);
        Assert.Equal(count, lines.Count);
        Assert.All(lines, line =>
        {
            // TRL's conversational preference type: message lists, the prompt as the run's actor asked it.
            var prompt = Assert.Single(line.GetProperty("prompt").EnumerateArray().ToList());
            var chosen = Assert.Single(line.GetProperty("chosen").EnumerateArray().ToList());
            var rejected = Assert.Single(line.GetProperty("rejected").EnumerateArray().ToList());
            Assert.Equal("user", prompt.GetProperty("role").GetString());
            Assert.StartsWith("A|", prompt.GetProperty("content").GetString());
            Assert.Equal(["assistant", "assistant"], new[] { chosen, rejected }.Select(m => m.GetProperty("role").GetString()));
            Assert.StartsWith("answer-", chosen.GetProperty("content").GetString());
            Assert.StartsWith("answer-", rejected.GetProperty("content").GetString());
            Assert.NotEqual(chosen.GetProperty("content").GetString(), rejected.GetProperty("content").GetString());
        });
        ExportSchemaCheck.AssertPasses("trl-preference", Path.Combine(_out, "dpo.jsonl"));
    }

    [Fact]
    public async Task Export_PaperRoleFormat_AsksDpoWithTheInstructionAndRendersTheRftSetWithFigure8()
    {
        var (dpoCount, dpo) = await ExportAsync("dpo", "trl", 1, "paper");
        var (rftCount, rft) = await ExportAsync("rft", "trl", 1, "paper");
        var (_, compact) = await ExportAsync("rft", "trl", 1, name: "compact-rft");

        Assert.Equal(fixture.CompletedStatus.Iterations[1].DpoPairs, dpoCount);
        Assert.All(dpo, line => Assert.DoesNotContain("A|", line.GetProperty("prompt")[0].GetProperty("content").GetString()));
        Assert.Equal(fixture.CompletedStatus.Iterations[1].RftExamples, rftCount);
        Assert.Equal(compact.Count, rft.Count);
        Assert.All(rft, line =>
        {
            var messages = line.GetProperty("messages").EnumerateArray().ToList();
            Assert.StartsWith("Please act an expert in evaluating", messages[0].GetProperty("content").GetString());
            Assert.Contains(messages.Count, new[] { 2, 4 });
            Assert.True(messages.Count == 2
                ? messages[1].GetProperty("content").GetString()!.Contains("Final Judgement (if the Output accurately follows the Prompt): ", StringComparison.Ordinal)
                : messages[3].GetProperty("content").GetString()!.StartsWith("Reflection on how to refine the Output: ", StringComparison.Ordinal));
        });
        // The same examples, in the same order: a judgment stays a judgment, a refinement a refinement.
        Assert.Equal(
            compact.Select(l => l.GetProperty("messages")[0].GetProperty("content").GetString()![0]),
            rft.Select(l => l.GetProperty("messages").GetArrayLength() == 2 ? 'J' : 'R'));
        ExportSchemaCheck.AssertPasses("trl-preference", Path.Combine(_out, "dpo.jsonl"));
        ExportSchemaCheck.AssertPasses("trl-lm", Path.Combine(_out, "rft.jsonl"));
    }

    [Fact]
    public async Task Export_DpoLlamaFactory_WritesOneUserTurnAndAssistantChosenRejected()
    {
        var (count, lines) = await ExportAsync("dpo", "llama-factory", 1);

        Assert.Equal(fixture.CompletedStatus.Iterations[1].DpoPairs, count);
        Assert.All(lines, line =>
        {
            var messages = line.GetProperty("messages");
            Assert.Equal(1, messages.GetArrayLength());
            Assert.Equal("user", messages[0].GetProperty("role").GetString());
            Assert.Equal("assistant", line.GetProperty("chosen").GetProperty("role").GetString());
            Assert.Equal("assistant", line.GetProperty("rejected").GetProperty("role").GetString());
        });
    }

    [Fact]
    public async Task Export_LlamaFactory_RegistersBothFilesInDatasetInfoSoTheFolderLoadsAsDatasetDir()
    {
        Directory.CreateDirectory(_out);
        var info = Path.Combine(_out, "dataset_info.json");
        await File.WriteAllTextAsync(info, "{\"mine\": {\"file_name\": \"mine.json\"}}");

        await ExportAsync("dpo", "llama-factory", 1);
        var path = Path.Combine(_out, "rft.jsonl");
        var (code, output, error) = await Spar(
            "export", StoredRunFixture.Completed, "--iteration", "1", "--what", "rft", "--style", "llama-factory", "--role-format", "paper",
            "--to", path, "--home", fixture.Home);

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains($"registered as dataset 'rft' in {info}", output);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(info));
        Assert.Equal(["mine", "dpo", "rft"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.True(doc.RootElement.GetProperty("dpo").GetProperty("ranking").GetBoolean());
        Assert.False(doc.RootElement.GetProperty("rft").GetProperty("ranking").GetBoolean());
        ExportSchemaCheck.AssertPasses("llama-factory", _out, "dpo", "--stage", "dpo");
        ExportSchemaCheck.AssertPasses("llama-factory", _out, "rft", "--stage", "sft");
    }

    [Theory]
    [InlineData("trl")]
    [InlineData("llama-factory")]
    public async Task Export_Rft_RebuildsExactlyTheTrainedSetAsChats(string style)
    {
        var (count, lines) = await ExportAsync("rft", style, 1);

        Assert.True(count > 0, "the scripted run makes RFT examples");
        Assert.Equal(fixture.CompletedStatus.Iterations[1].RftExamples, count);
        Assert.All(lines, line =>
        {
            var messages = line.GetProperty("messages").EnumerateArray().ToList();
            Assert.True(messages.Count >= 2);
            Assert.Equal("user", messages[0].GetProperty("role").GetString());
            Assert.Equal("assistant", messages[^1].GetProperty("role").GetString());
            Assert.False(string.IsNullOrEmpty(messages[^1].GetProperty("content").GetString()));
        });
        if (style == "trl")
        {
            ExportSchemaCheck.AssertPasses("trl-lm", Path.Combine(_out, "rft.jsonl"));
        }
        else
        {
            ExportSchemaCheck.AssertPasses("llama-factory", _out, "rft", "--stage", "sft");
        }
    }

    [Fact]
    public async Task IterationDatasets_OutcomesInAnotherOrder_GiveTheSameRftSetAndPairs()
    {
        // The run grain collects outcomes in the order searches finish; the export must rebuild the same data anyway.
        var store = new RunStore(Path.Combine(fixture.Home, ".state"));
        var run = await store.GetAsync(StoredRunFixture.Completed, CancellationToken.None);
        var outcomes = (await store.GetPromptsAsync(run, 1, CancellationToken.None)).Select(p => p.State.Outcome!).ToList();
        var shuffled = Enumerable.Reverse(outcomes).ToList();

        var rft = IterationDatasets.RftExamples(run.Spec!, outcomes);
        Assert.NotEmpty(rft);
        Assert.Equal(rft.Select(e => e.Messages.Last().Content), IterationDatasets.RftExamples(run.Spec!, shuffled).Select(e => e.Messages.Last().Content));
        Assert.Equal(IterationDatasets.DpoPairs(outcomes), IterationDatasets.DpoPairs(shuffled));
    }

    [Fact]
    public async Task Export_Judgments_HasEverySampleAndTreeVoteWithVerdictAndVerifierTruth()
    {
        var (count, lines) = await ExportAsync("judgments", "trl", 1);

        var spec = fixture.CompletedStatus.Spec!;
        Assert.Equal(count, lines.Count);
        Assert.Equal(spec.PromptsPerIteration * spec.SamplesPerPrompt, lines.Count(l => l.GetProperty("source").GetString() == "sample"));
        Assert.Contains(lines, l => l.GetProperty("source").GetString() == "tree");
        Assert.All(lines, line =>
        {
            Assert.StartsWith("t1-p", line.GetProperty("prompt_id").GetString());
            Assert.False(string.IsNullOrEmpty(line.GetProperty("instruction").GetString()));
            Assert.StartsWith("answer-", line.GetProperty("response").GetString());
            var yes = line.GetProperty("yes").GetInt32();
            var no = line.GetProperty("no").GetInt32();
            Assert.Equal(line.GetProperty("judgments").GetArrayLength(), yes + no + line.GetProperty("invalid").GetInt32());
            var verdict = line.GetProperty("verdict");
            Assert.Equal(yes > no ? "yes" : no > yes ? "no" : null, verdict.ValueKind == JsonValueKind.Null ? null : verdict.GetString());
            // The world's verifiers know every constraint of its prompts, so the truth is always computable here.
            Assert.Contains(line.GetProperty("verifier").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        });
    }

    [Fact]
    public async Task Export_Trees_WritesEachSearchedPromptsTreeWithConsistentParentsAndDepths()
    {
        var (count, _) = await ExportAsync("trees", "trl", 2);

        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, "trees.json")));
        var trees = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(count, trees.Count);
        Assert.Equal(fixture.CompletedStatus.Iterations[2].Negatives, trees.Count);
        Assert.Contains(trees, t => t.GetProperty("winner_id").ValueKind == JsonValueKind.Number);
        foreach (var tree in trees)
        {
            var nodes = tree.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetInt32());
            Assert.Equal(tree.GetProperty("expansions").GetInt32() + 1, nodes.Count);
            Assert.Equal(JsonValueKind.Null, nodes[0].GetProperty("parent_id").ValueKind);
            Assert.Equal(0, nodes[0].GetProperty("depth").GetInt32());
            Assert.Equal("root", nodes[0].GetProperty("status").GetString());
            foreach (var node in nodes.Values.Where(n => n.GetProperty("id").GetInt32() != 0))
            {
                var parent = nodes[node.GetProperty("parent_id").GetInt32()];
                Assert.Equal(parent.GetProperty("depth").GetInt32() + 1, node.GetProperty("depth").GetInt32());
                if (node.GetProperty("status").GetString() == "judged")
                {
                    var yes = node.GetProperty("yes").GetInt32();
                    var no = node.GetProperty("no").GetInt32();
                    Assert.Equal((double)yes / (yes + no), node.GetProperty("value").GetDouble(), 9);
                    Assert.StartsWith("answer-", node.GetProperty("response").GetString());
                }
            }
        }
    }

    [Fact]
    public async Task Export_NoIteration_DefaultsToTheLastFinishedAndPrintsTheFileInText()
    {
        var path = Path.Combine(_out, "pairs.jsonl");
        var (code, output, error) = await Spar("export", StoredRunFixture.Completed, "--what", "dpo", "--to", path, "--home", fixture.Home);

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains($"iteration 2 of {StoredRunFixture.Completed}", output);
        Assert.Contains(path, output);
        Assert.Equal(fixture.CompletedStatus.Iterations[2].DpoPairs, File.ReadAllLines(path).Length);
        Assert.Equal(["pairs.jsonl"], Directory.GetFiles(_out).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("nope", "dpo", "trl", null, "No run 'nope'")]
    [InlineData(StoredRunFixture.Completed, "dpo", "trl", "3", "has no iteration 3")]
    [InlineData(StoredRunFixture.Completed, "dpo", "trl", "0", "--iteration must be at least 1")]
    [InlineData(StoredRunFixture.Completed, "pairs", "trl", null, "--what must be one of dpo, rft, judgments, trees (got 'pairs')")]
    [InlineData(StoredRunFixture.Completed, "rft", "alpaca", null, "--style must be one of trl, llama-factory")]
    [InlineData(StoredRunFixture.Failed, "judgments", "trl", null, "has not started an iteration yet")]
    public async Task Export_BadRequest_ExitsWithUserErrorAndWritesNothing(string run, string what, string style, string? iteration, string message)
    {
        var path = Path.Combine(_out, "x.jsonl");
        string[] args = ["export", run, "--what", what, "--style", style, "--to", path, "--home", fixture.Home];
        var (code, _, error) = await Spar(iteration is null ? args : [.. args, "--iteration", iteration]);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(_out) && Directory.EnumerateFileSystemEntries(_out).Any());
    }

    [Theory]
    [InlineData("judgments", "trl", "paper", "x.jsonl", "--role-format applies to dpo and rft only")]
    [InlineData("rft", "trl", "fancy", "x.jsonl", "--role-format must be one of paper, compact (got 'fancy')")]
    [InlineData("dpo", "llama-factory", null, "x.txt", "LLaMA-Factory reads JSON lines only from files ending in .jsonl or .json")]
    public async Task Export_RoleFormatOrLlamaFactoryFileMisused_ExitsWithUserErrorAndWritesNothing(
        string what, string style, string? roleFormat, string file, string message)
    {
        string[] args = ["export", StoredRunFixture.Completed, "--what", what, "--style", style, "--to", Path.Combine(_out, file), "--home", fixture.Home];
        var (code, _, error) = await Spar(roleFormat is null ? args : [.. args, "--role-format", roleFormat]);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
        Assert.False(Directory.Exists(_out) && Directory.EnumerateFileSystemEntries(_out).Any());
    }

    [Fact]
    public async Task Export_ToAFolder_ExitsWithUserErrorNamingThePath()
    {
        Directory.CreateDirectory(_out);
        var (code, _, error) = await Spar("export", StoredRunFixture.Completed, "--what", "dpo", "--to", _out, "--home", fixture.Home);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains($"error: Cannot write {_out}", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_out));
    }

    private async Task<(int Count, List<JsonElement> Lines)> ExportAsync(string what, string style, int iteration, string? roleFormat = null, string? name = null)
    {
        var path = Path.Combine(_out, (name ?? what) + (what == "trees" ? ".json" : ".jsonl"));
        string[] args =
        [
            "export", StoredRunFixture.Completed, "--iteration", iteration.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--what", what, "--style", style, "--to", path, "--home", fixture.Home, "--format", "json",
        ];
        var (code, output, error) = await Spar(roleFormat is null ? args : [.. args, "--role-format", roleFormat]);
        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        using var result = JsonDocument.Parse(output);
        Assert.Equal(Path.GetFullPath(path), result.RootElement.GetProperty("file").GetString());
        Assert.Equal(iteration, result.RootElement.GetProperty("iteration").GetInt32());
        Assert.Equal(what, result.RootElement.GetProperty("what").GetString());
        Assert.Equal(style, result.RootElement.GetProperty("style").GetString());
        if (what is "dpo" or "rft")
        {
            Assert.Equal(roleFormat ?? "compact", result.RootElement.GetProperty("role_format").GetString());
        }
        var lines = what == "trees"
            ? []
            : File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (result.RootElement.GetProperty("count").GetInt32(), lines);
    }
}
