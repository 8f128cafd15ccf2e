using System.Text.Json.Nodes;
using SparOrleans.Client.Cli;
using SparOrleans.Engine.Model;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// <c>spar train sft</c> end to end: data in TRL's and LLaMA-Factory's layouts in, a model out that
/// <c>spar generate</c> answers with what it was taught; with LoRA, a PEFT adapter or the merged model.
/// </summary>
public class TrainCommandTests
{
    private static string Setup(out string model)
    {
        var root = Directory.CreateTempSubdirectory("spar-train-").FullName;
        model = Path.Combine(root, "base");
        using var lm = LanguageModel.CreateByteLevel(64, 2, 4, seed: 1);
        ModelCheckpoint.Save(lm, model);
        // Two layouts in one file: TRL's conversational rows and LLaMA-Factory's sharegpt rows.
        File.WriteAllLines(Path.Combine(root, "data.jsonl"),
        [
            """{"messages": [{"role": "user", "content": "Name a color"}, {"role": "assistant", "content": "teal"}]}""",
            """{"conversations": [{"from": "human", "value": "Say hi"}, {"from": "gpt", "value": "hello world"}]}""",
        ]);
        return root;
    }

    private static async Task<string> Reply(string model, string prompt)
    {
        var (code, stdout, stderr) = await Spar("generate", "--model", model, "--prompt", prompt, "--max-new-tokens", "16");
        Assert.True(code == ExitCodes.Success, stderr);
        return stdout.TrimEnd('\n');
    }

    [Fact]
    public async Task Sft_Full_TeachesTheAnswersGenerateThenGives()
    {
        var root = Setup(out var model);
        var output = Path.Combine(root, "m0");
        var (code, stdout, stderr) = await Spar("train", "sft", "--model", model, "--data", Path.Combine(root, "data.jsonl"),
            "--out", output, "--threads", "1", "--epochs", "150", "--batch-size", "2", "--micro-batch-size", "2", "--lr", "3e-3", "--format", "json");
        Assert.True(code == ExitCodes.Success, stderr);
        var result = JsonNode.Parse(stdout)!;
        Assert.Equal(150, result["steps"]!.GetValue<int>());
        Assert.True(result["final_loss"]!.GetValue<double>() < 0.05, stdout);
        Assert.Contains("step 150/150", stderr);
        Assert.Equal("teal", await Reply(output, "Name a color"));
        Assert.Equal("hello world", await Reply(output, "Say hi"));
        Assert.Equal(150, File.ReadAllLines(Path.Combine(output, "trainer_log.jsonl")).Length);
    }

    [Fact]
    public async Task Sft_Lora_WritesAPeftAdapter_OrWithMergeAFullModel()
    {
        var root = Setup(out var model);
        var adapter = Path.Combine(root, "adapter");
        string[] common = ["--data", Path.Combine(root, "data.jsonl"), "--threads", "1", "--epochs", "3", "--batch-size", "2", "--lora-rank", "4", "--lora-dropout", "0"];
        var (code, _, stderr) = await Spar(["train", "sft", "--model", model, "--out", adapter, .. common]);
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Contains("LoRA r=4 alpha=8", stderr);
        Assert.True(File.Exists(Path.Combine(adapter, LoraAdapters.ConfigFile)));
        Assert.False(File.Exists(Path.Combine(adapter, ModelCheckpoint.WeightsFile)));
        var merged = Path.Combine(root, "merged");
        (code, _, stderr) = await Spar(["train", "sft", "--model", model, "--out", merged, "--merge", .. common]);
        Assert.True(code == ExitCodes.Success, stderr);
        // Same seed, same data: the merged model answers as the base with the adapter on top.
        (code, _, stderr) = await Spar("merge", "--model", model, "--adapter", adapter, "--out", Path.Combine(root, "merged-after"));
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Equal(await Reply(Path.Combine(root, "merged-after"), "Say hi"), await Reply(merged, "Say hi"));
    }

    [Theory]
    [InlineData("missing-data", "file not found")]
    [InlineData("bad-row", "data.jsonl:3: the conversation must end with an assistant message")]
    [InlineData("merge-without-lora", "--merge needs --lora-rank")]
    [InlineData("in-place", "--out must differ from --model")]
    public async Task Sft_BadInput_OneErrorLineAndNothingWritten(string which, string expected)
    {
        var root = Setup(out var model);
        var data = Path.Combine(root, "data.jsonl");
        var output = Path.Combine(root, "out");
        if (which == "bad-row")
        {
            File.AppendAllText(data, """{"messages": [{"role": "user", "content": "x"}]}""" + "\n");
        }
        string[] args = which switch
        {
            "missing-data" => ["train", "sft", "--model", model, "--data", Path.Combine(root, "none.jsonl"), "--out", output],
            "merge-without-lora" => ["train", "sft", "--model", model, "--data", data, "--out", output, "--merge"],
            "in-place" => ["train", "sft", "--model", model, "--data", data, "--out", model],
            _ => ["train", "sft", "--model", model, "--data", data, "--out", output],
        };
        var (code, stdout, stderr) = await Spar(args);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error:", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(output));
    }
}
