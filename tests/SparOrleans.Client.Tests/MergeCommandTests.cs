using System.Text.Json.Nodes;
using SparOrleans.Client.Cli;
using SparOrleans.Engine.Model;
using SparOrleans.Tests.Shared;
using static SparOrleans.Client.Tests.SparInvocation;
using static TorchSharp.torch;

namespace SparOrleans.Client.Tests;

/// <summary>
/// <c>spar merge</c> and <c>spar generate --adapter</c> on the PEFT adapter that the independent reference wrote
/// (tests/SparOrleans.Engine.Tests/Reference): the merged checkpoint computes what the reference's merge computes.
/// </summary>
public class MergeCommandTests
{
    private static string Reference(params string[] parts) =>
        Path.Combine([RepoPaths.Root, "tests", "SparOrleans.Engine.Tests", "Reference", "models", .. parts]);

    [Fact]
    public async Task Merge_ReferenceAdapterIntoBf16Base_MatchesTheReferencesMergedModel()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("spar-merge-").FullName, "merged");
        var (code, stdout, stderr) = await Spar("merge", "--model", Reference("llama-gqa-untied-bf16-sharded"),
            "--adapter", Reference("llama-gqa-untied-bf16-sharded", "adapters", "lora-qv"), "--out", output);
        Assert.True(code == ExitCodes.Success, stderr);
        Assert.Equal(output, stdout.Trim());
        Assert.Contains("merged r=4 alpha=16", stderr);
        // The base's torch_dtype (bfloat16) is kept: 2 bytes a weight, HF names only, no adapter tensors.
        var header = Safetensors.ReadHeader(Path.Combine(output, ModelCheckpoint.WeightsFile), out _);
        Assert.All(header, kv => Assert.Equal("BF16", kv.Value.Dtype));
        Assert.DoesNotContain(header.Keys, k => k.Contains("lora", StringComparison.Ordinal));
        var golden = JsonNode.Parse(File.ReadAllText(Reference("llama-gqa-untied-bf16-sharded", "adapters", "lora-qv", "golden.json")))!;
        var prompt = golden["prompts"]![0]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        var expected = golden["merged_greedy_bf16"]![0]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        using var merged = ModelCheckpoint.LoadNetwork(output);
        using var noGrad = no_grad();
        var seq = prompt.ToList();
        for (var i = 0; i < expected.Length; i++)
        {
            using var logits = merged.Forward(tensor(seq.ToArray(), [1, seq.Count]), lastOnly: true);
            seq.Add(logits.argmax(-1).item<long>());
        }
        Assert.Equal(expected, seq.Skip(prompt.Length));
    }

    [Fact]
    public async Task Generate_WithAdapter_AnswersAsTheAdaptedModel()
    {
        var root = Directory.CreateTempSubdirectory("spar-adapter-").FullName;
        using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 3);
        ModelCheckpoint.Save(model, Path.Combine(root, "base"));
        LoraAdapters.Attach(model.Network, new LoraOptions(Rank: 4, Alpha: 8, Dropout: 0));
        using (no_grad())
        {
            foreach (var t in LoraAdapters.AdapterTensors(model.Network).Values)
            {
                t.copy_(randn(t.shape, generator: new Generator(5)) * 0.5);
            }
        }
        LoraAdapters.Save(model.Network, Path.Combine(root, "adapter"));
        var withAdapter = await Spar("generate", "--model", Path.Combine(root, "base"), "--adapter", Path.Combine(root, "adapter"),
            "--raw", "--prompt", "abc", "--max-new-tokens", "8", "--format", "json");
        var without = await Spar("generate", "--model", Path.Combine(root, "base"), "--raw", "--prompt", "abc", "--max-new-tokens", "8", "--format", "json");
        Assert.True(withAdapter.Code == ExitCodes.Success, withAdapter.Err);
        var ids = JsonNode.Parse(withAdapter.Out)!["token_ids"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        model.Network.eval();
        using var noGrad = no_grad();
        var seq = model.Tokenizer.Encode("abc").Select(t => (long)t).ToList();
        var manual = new List<long>();
        while (manual.Count < ids.Length)
        {
            using var logits = model.Network.Forward(tensor(seq.ToArray(), [1, seq.Count]), lastOnly: true);
            var next = logits.argmax(-1).item<long>();
            manual.Add(next);
            seq.Add(next);
        }
        Assert.Equal(manual, ids);
        Assert.NotEqual(JsonNode.Parse(without.Out)!["token_ids"]!.ToJsonString(), JsonNode.Parse(withAdapter.Out)!["token_ids"]!.ToJsonString());
    }

    [Theory]
    [InlineData("no-model", "give --model DIR.")]
    [InlineData("missing-adapter", "--adapter: no directory")]
    [InlineData("in-place", "--out must differ from --model")]
    [InlineData("bad-dtype", "unknown dtype 'int8'")]
    public async Task Merge_BadInput_OneErrorLineExit2(string which, string expected)
    {
        var model = Reference("llama-gqa-untied-bf16-sharded");
        var adapter = Reference("llama-gqa-untied-bf16-sharded", "adapters", "lora-qv");
        var output = Path.Combine(Path.GetTempPath(), "spar-merge-bad-" + Guid.NewGuid().ToString("N"));
        string[] args = which switch
        {
            "no-model" => ["merge", "--adapter", adapter, "--out", output],
            "missing-adapter" => ["merge", "--model", model, "--adapter", output + "-nothing", "--out", output],
            "in-place" => ["merge", "--model", model, "--adapter", adapter, "--out", model],
            _ => ["merge", "--model", model, "--adapter", adapter, "--out", output, "--dtype", "int8"],
        };
        var (code, stdout, stderr) = await Spar(args);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error:", line);
        Assert.Contains(expected, line);
        Assert.False(Directory.Exists(output));
    }
}
