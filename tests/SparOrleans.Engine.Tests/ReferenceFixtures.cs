using System.Text.Json.Nodes;
using SparOrleans.Engine.Model;
using SparOrleans.Tests.Shared;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

/// <summary>
/// The checkpoints and golden outputs written by <c>Reference/hf_reference.py</c>: an HF-faithful forward in plain
/// PyTorch with its own safetensors writer, independent of this engine (see Reference/README.md).
/// </summary>
internal static class ReferenceFixtures
{
    public static string ModelsRoot => Path.Combine(RepoPaths.Root, "tests", "SparOrleans.Engine.Tests", "Reference", "models");

    public static readonly string[] Cases =
    [
        "llama-mha-tied-f32", "llama-gqa-untied-bf16-sharded", "llama-mqa-f16", "llama3-rope", "llama-linear-rope",
        "llama-dynamic-rope", "llama-head-dim", "mistral-sliding-window", "qwen2-bias", "qwen3-qknorm",
    ];

    public static TheoryData<string> CaseData() => new(Cases);

    public static string Dir(string name) => Path.Combine(ModelsRoot, name);

    public static Golden Load(string directory) => new(JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "golden.json")))!);

    public static Tensor Ids(IReadOnlyList<long> ids) => tensor(ids.ToArray(), [1, ids.Count]);

    /// <summary>Max |a - b| over every real position of a [T,V] logits block against golden rows.</summary>
    public static double MaxDiff(Tensor logits, float[][] golden, int skip = 0)
    {
        var values = logits.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var vocab = golden[0].Length;
        var worst = 0.0;
        for (var t = skip; t < golden.Length; t++)
        {
            for (var v = 0; v < vocab; v++)
            {
                worst = Math.Max(worst, Math.Abs(values[t * vocab + v] - golden[t][v]));
            }
        }
        return worst;
    }

    /// <summary>Greedy continuation by recomputing the whole sequence each step (no cache).</summary>
    public static List<long> GreedyFull(LlamaForCausalLM net, IReadOnlyList<long> prompt, int steps)
    {
        using var noGrad = no_grad();
        var seq = prompt.ToList();
        var output = new List<long>();
        for (var i = 0; i < steps; i++)
        {
            using var logits = net.Forward(Ids(seq), lastOnly: true);
            var next = logits.argmax(-1).item<long>();
            output.Add(next);
            seq.Add(next);
        }
        return output;
    }

    /// <summary>Greedy continuation with a KV cache: prefill, then one token a step.</summary>
    public static List<long> GreedyCached(LlamaForCausalLM net, IReadOnlyList<long> prompt, int steps)
    {
        using var noGrad = no_grad();
        using var cache = new KvCache(net.Config.NumHiddenLayers);
        var output = new List<long>();
        var input = Ids(prompt);
        for (var i = 0; i < steps; i++)
        {
            using var logits = net.Forward(input, cache: cache, lastOnly: true);
            var next = logits.argmax(-1).item<long>();
            output.Add(next);
            input = tensor(new[] { next }, [1, 1]);
        }
        return output;
    }

    /// <summary>Greedy continuation of a left-padded batch with one attention mask and a KV cache, as the batch decoder runs it.</summary>
    public static List<long>[] GreedyPaddedBatch(LlamaForCausalLM net, long[][] ids, long[][] mask, int steps)
    {
        using var noGrad = no_grad();
        using var cache = new KvCache(net.Config.NumHiddenLayers);
        var rows = ids.Length;
        var outputs = Enumerable.Range(0, rows).Select(_ => new List<long>()).ToArray();
        var input = tensor(ids.SelectMany(r => r).ToArray(), [rows, ids[0].Length]);
        var fullMask = mask.Select(r => r.ToList()).ToArray();
        for (var i = 0; i < steps; i++)
        {
            using var m = tensor(fullMask.SelectMany(r => r).ToArray(), [rows, fullMask[0].Count]);
            using var logits = net.Forward(input, m, cache, lastOnly: true);
            var next = logits.argmax(-1).view(rows).data<long>().ToArray();
            for (var r = 0; r < rows; r++)
            {
                outputs[r].Add(next[r]);
                fullMask[r].Add(1);
            }
            input = tensor(next, [rows, 1]);
        }
        return outputs;
    }
}

/// <summary>One <c>golden.json</c>.</summary>
internal sealed class Golden(JsonNode root)
{
    public long[][] Prompts { get; } = Longs(root["prompts"]!);

    public float[][][] Logits { get; } = Blocks(root["logits"]!);

    public long[][] PaddedIds { get; } = Longs(root["padded"]!["input_ids"]!);

    public long[][] PaddedMask { get; } = Longs(root["padded"]!["attention_mask"]!);

    public float[][][] PaddedLogits { get; } = Blocks(root["padded"]!["logits"]!);

    public int MaxNewTokens { get; } = root["max_new_tokens"]!.GetValue<int>();

    public long[][] Greedy { get; } = Longs(root["greedy"]!);

    public long[][] GreedyCached { get; } = Longs(root["greedy_cached"]!);

    public JsonNode Root { get; } = root;

    private static long[][] Longs(JsonNode n) => n.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<long>()).ToArray()).ToArray();

    private static float[][][] Blocks(JsonNode n) =>
        n.AsArray().Select(b => b!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<float>()).ToArray()).ToArray()).ToArray();
}
