using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;

namespace SparOrleans.Engine.Model;

/// <summary>
/// Sizes of a Llama-style decoder, named as in HF <c>config.json</c>. <see cref="NumKeyValueHeads"/> below
/// <see cref="NumAttentionHeads"/> gives grouped-query attention; it must divide it.
/// </summary>
public sealed record LlamaConfig(
    int VocabSize,
    int HiddenSize = 256,
    int IntermediateSize = 688,
    int NumHiddenLayers = 4,
    int NumAttentionHeads = 4,
    int NumKeyValueHeads = 4,
    int MaxPositionEmbeddings = 2048,
    double RmsNormEps = 1e-5,
    double RopeTheta = 10000,
    bool TieWordEmbeddings = true,
    int BosTokenId = 1,
    int EosTokenId = 2) : IValidatedOptions
{
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>A tiny model for tests and the simulator: width <paramref name="d"/>, SwiGLU width ≈ 8/3·d.</summary>
    public static LlamaConfig Small(int vocabSize, int d, int layers, int heads, int kvHeads = 0, int bos = 1, int eos = 2) =>
        new(vocabSize, d, (d * 8 / 3 + 7) / 8 * 8, layers, heads, kvHeads == 0 ? heads : kvHeads, BosTokenId: bos, EosTokenId: eos);

    public IEnumerable<string> Problems() => new ProblemList()
        .Positive("vocab_size", VocabSize)
        .Positive("hidden_size", HiddenSize)
        .Positive("intermediate_size", IntermediateSize)
        .Positive("num_hidden_layers", NumHiddenLayers)
        .Positive("num_attention_heads", NumAttentionHeads)
        .Positive("num_key_value_heads", NumKeyValueHeads)
        .Positive("max_position_embeddings", MaxPositionEmbeddings)
        .Positive("rms_norm_eps", RmsNormEps)
        .Positive("rope_theta", RopeTheta)
        .Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0,
            $"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads})")
        .Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})")
        .Require(HiddenSize / Math.Max(1, NumAttentionHeads) % 2 == 0, "head dimension must be even for rotary embeddings");

    /// <summary>The HF <c>config.json</c> text (model_type llama).</summary>
    public string ToHfJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "float32",
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads an HF <c>config.json</c>; unknown keys are ignored, missing required ones are named.</summary>
    public static LlamaConfig FromHfJson(string json, string sourceName)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{sourceName}: not valid JSON ({e.Message})");
        }
        if (root is not JsonObject o)
        {
            throw new UserInputException($"{sourceName}: expected a JSON object");
        }
        var type = o["model_type"]?.GetValue<string>();
        if (type is not null && type != "llama")
        {
            throw new UserInputException($"{sourceName}: model_type '{type}' is not supported (only llama)");
        }
        int Req(string key) => o[key] is { } n ? n.GetValue<int>()
            : throw new UserInputException($"{sourceName}: missing '{key}'");
        var heads = Req("num_attention_heads");
        var config = new LlamaConfig(
            Req("vocab_size"), Req("hidden_size"), Req("intermediate_size"), Req("num_hidden_layers"), heads,
            o["num_key_value_heads"]?.GetValue<int>() ?? heads,
            o["max_position_embeddings"]?.GetValue<int>() ?? 2048,
            o["rms_norm_eps"]?.GetValue<double>() ?? 1e-5,
            o["rope_theta"]?.GetValue<double>() ?? 10000,
            o["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            FirstInt(o["bos_token_id"]) ?? 1,
            FirstInt(o["eos_token_id"]) ?? 2);
        var problems = config.Problems().ToList();
        return problems.Count == 0 ? config : throw new UserInputException($"{sourceName}: {string.Join("; ", problems)}");
    }

    // Llama-3 lists several end-of-turn ids; the first is the primary one.
    private static int? FirstInt(JsonNode? node) => node switch
    {
        null => null,
        JsonArray a => a.Count > 0 ? a[0]!.GetValue<int>() : null,
        _ => node.GetValue<int>(),
    };
}
