using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;

namespace SparOrleans.Engine.Model;

/// <summary>
/// Sizes of a Llama-family decoder, named as in HF <c>config.json</c>. <see cref="NumKeyValueHeads"/> below
/// <see cref="NumAttentionHeads"/> gives grouped-query attention; it must divide it. The family keys
/// (<see cref="ModelType"/>, q/k/v bias, Qwen3's q/k norms, an explicit head dimension, rope scaling, Mistral's
/// sliding window) cover Llama 1/2/3, Mistral, Qwen2/2.5 and Qwen3, which differ only in those.
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
    /// <summary>The families whose forward this decoder computes exactly.</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["llama", "mistral", "qwen2", "qwen3"];

    /// <summary>HF <c>model_type</c>: llama, mistral, qwen2 or qwen3.</summary>
    public string ModelType { get; init; } = "llama";

    /// <summary>HF <c>head_dim</c> when the checkpoint states one (Qwen3, some Llamas); else hidden / heads.</summary>
    public int? ExplicitHeadDim { get; init; }

    /// <summary>Biases on the q, k and v projections (Qwen2; Llama's <c>attention_bias</c>).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Qwen3's per-head RMSNorm on queries and keys before the rotary embedding.</summary>
    public bool QkNorm { get; init; }

    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Mistral's sliding window: a query attends to the last this-many positions only; null = full causal.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>HF <c>torch_dtype</c> as written on disk: float32, bfloat16 or float16.</summary>
    public string TorchDtype { get; init; } = "float32";

    public int HeadDim => ExplicitHeadDim ?? HiddenSize / Math.Max(1, NumAttentionHeads);

    /// <summary>A tiny model for tests and the simulator: width <paramref name="d"/>, SwiGLU width ≈ 8/3·d.</summary>
    public static LlamaConfig Small(int vocabSize, int d, int layers, int heads, int kvHeads = 0, int bos = 1, int eos = 2) =>
        new(vocabSize, d, (d * 8 / 3 + 7) / 8 * 8, layers, heads, kvHeads == 0 ? heads : kvHeads, BosTokenId: bos, EosTokenId: eos);

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(SupportedModelTypes.Contains(ModelType),
            $"model_type '{ModelType}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})")
        .Positive("vocab_size", VocabSize)
        .Positive("hidden_size", HiddenSize)
        .Positive("intermediate_size", IntermediateSize)
        .Positive("num_hidden_layers", NumHiddenLayers)
        .Positive("num_attention_heads", NumAttentionHeads)
        .Positive("num_key_value_heads", NumKeyValueHeads)
        .Positive("max_position_embeddings", MaxPositionEmbeddings)
        .Positive("rms_norm_eps", RmsNormEps)
        .Positive("rope_theta", RopeTheta)
        .Require(ExplicitHeadDim is not null || (NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0),
            $"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads}) when head_dim is not given")
        .Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})")
        .Require(HeadDim > 0 && HeadDim % 2 == 0, $"head dimension ({HeadDim}) must be even and positive for rotary embeddings")
        .Require(SlidingWindow is null or > 0, $"sliding_window must be positive (got {SlidingWindow})")
        .Concat(RopeScaling?.Problems() ?? []);

    /// <summary>The HF <c>config.json</c> text, as HF's <c>save_pretrained</c> would write it for this family.</summary>
    public string ToHfJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture(ModelType)),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling?.ToJson(),
            ["attention_bias"] = AttentionBias,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = TorchDtype,
        };
        if (ModelType is "mistral" or "qwen2")
        {
            o["sliding_window"] = SlidingWindow;
        }
        if (ModelType == "qwen2")
        {
            o["use_sliding_window"] = SlidingWindow is not null;
        }
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string Architecture(string modelType) => modelType switch
    {
        "mistral" => "MistralForCausalLM",
        "qwen2" => "Qwen2ForCausalLM",
        "qwen3" => "Qwen3ForCausalLM",
        _ => "LlamaForCausalLM",
    };

    /// <summary>
    /// Reads an HF <c>config.json</c>. Keys that do not change the forward are ignored; anything that would
    /// (an unknown family, activation or rope scaling type, a missing size) is refused with a message naming it.
    /// </summary>
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
        try
        {
            return Read(o, sourceName);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            throw new UserInputException($"{sourceName}: a value has the wrong type ({e.Message})");
        }
    }

    private static LlamaConfig Read(JsonObject o, string sourceName)
    {
        var type = o["model_type"]?.GetValue<string>() ?? "llama";
        if (!SupportedModelTypes.Contains(type))
        {
            throw new UserInputException(
                $"{sourceName}: model_type '{type}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})");
        }
        var act = o["hidden_act"]?.GetValue<string>() ?? "silu";
        if (act != "silu")
        {
            throw new UserInputException($"{sourceName}: hidden_act '{act}' is not supported (only silu)");
        }
        int Req(string key) => o[key] is { } n ? n.GetValue<int>()
            : throw new UserInputException($"{sourceName}: missing '{key}'");
        var heads = Req("num_attention_heads");
        var hidden = Req("hidden_size");
        // Qwen2 declares a sliding window but applies it only with use_sliding_window (off in every released config).
        var slidingUsed = type == "mistral" || (type == "qwen2" && (o["use_sliding_window"]?.GetValue<bool>() ?? false));
        var window = slidingUsed ? o["sliding_window"]?.GetValue<int?>() : null;
        var headDim = o["head_dim"]?.GetValue<int?>();
        var config = new LlamaConfig(
            Req("vocab_size"), hidden, Req("intermediate_size"), Req("num_hidden_layers"), heads,
            o["num_key_value_heads"]?.GetValue<int?>() ?? heads,
            o["max_position_embeddings"]?.GetValue<int>() ?? 2048,
            o["rms_norm_eps"]?.GetValue<double>() ?? 1e-5,
            o["rope_theta"]?.GetValue<double>() ?? 10000,
            // Every family's HF config class defaults to an untied head.
            o["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            FirstInt(o["bos_token_id"]) ?? 1,
            FirstInt(o["eos_token_id"]) ?? 2)
        {
            ModelType = type,
            // A head_dim equal to hidden / heads is what every config implies; keep it implicit so both spellings compare equal.
            ExplicitHeadDim = headDim is { } hd && (heads <= 0 || hd * heads != hidden) ? hd : null,
            AttentionBias = type == "qwen2" || (o["attention_bias"]?.GetValue<bool>() ?? false),
            QkNorm = type == "qwen3",
            RopeScaling = RopeScaling.FromJson(o["rope_scaling"], sourceName),
            SlidingWindow = window,
            TorchDtype = o["torch_dtype"]?.GetValue<string>() ?? "float32",
        };
        if (o["partial_rotary_factor"] is { } partial && partial.GetValue<double>() != 1.0)
        {
            throw new UserInputException($"{sourceName}: partial_rotary_factor {partial.ToJsonString()} is not supported (only 1.0)");
        }
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

/// <summary>
/// HF's <c>rope_scaling</c>: <c>linear</c> (positions divided by the factor), <c>dynamic</c> (NTK: the base grows
/// with the sequence once it passes max_position_embeddings) and <c>llama3</c> (Llama-3.1's band-wise rescaling of
/// the low frequencies). Other types (yarn, longrope, ...) change the forward in ways not implemented and are refused.
/// </summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4,
    int OriginalMaxPositionEmbeddings = 8192)
{
    public static readonly IReadOnlyList<string> SupportedTypes = ["linear", "dynamic", "llama3"];

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(SupportedTypes.Contains(Type), $"rope_scaling type '{Type}' is not supported (supported: {string.Join(", ", SupportedTypes)})")
        .Require(Factor >= 1, $"rope_scaling factor must be at least 1 (got {Factor})")
        .Require(Type != "llama3" || HighFreqFactor > LowFreqFactor,
            $"rope_scaling high_freq_factor ({HighFreqFactor}) must exceed low_freq_factor ({LowFreqFactor})")
        .Require(Type != "llama3" || OriginalMaxPositionEmbeddings > 0,
            $"rope_scaling original_max_position_embeddings must be positive (got {OriginalMaxPositionEmbeddings})");

    public JsonObject ToJson()
    {
        var o = new JsonObject { ["rope_type"] = Type, ["factor"] = Factor };
        if (Type == "llama3")
        {
            o["low_freq_factor"] = LowFreqFactor;
            o["high_freq_factor"] = HighFreqFactor;
            o["original_max_position_embeddings"] = OriginalMaxPositionEmbeddings;
        }
        return o;
    }

    /// <summary>Null for an absent or <c>default</c> scaling; HF's legacy key <c>type</c> is read like <c>rope_type</c>.</summary>
    public static RopeScaling? FromJson(JsonNode? node, string sourceName)
    {
        if (node is null)
        {
            return null;
        }
        if (node is not JsonObject o)
        {
            throw new UserInputException($"{sourceName}: rope_scaling must be an object or null");
        }
        var type = (o["rope_type"] ?? o["type"])?.GetValue<string>()
            ?? throw new UserInputException($"{sourceName}: rope_scaling has no rope_type");
        if (type == "default")
        {
            return null;
        }
        if (!SupportedTypes.Contains(type))
        {
            throw new UserInputException(
                $"{sourceName}: rope_scaling type '{type}' is not supported (supported: {string.Join(", ", SupportedTypes)})");
        }
        double Num(string key, double? fallback) => o[key]?.GetValue<double>() ?? fallback
            ?? throw new UserInputException($"{sourceName}: rope_scaling ({type}) is missing '{key}'");
        var scaling = type == "llama3"
            ? new RopeScaling(type, Num("factor", null), Num("low_freq_factor", null), Num("high_freq_factor", null),
                (int)Num("original_max_position_embeddings", null))
            : new RopeScaling(type, Num("factor", null));
        var problems = scaling.Problems().ToList();
        return problems.Count == 0 ? scaling
            : throw new UserInputException($"{sourceName}: {string.Join("; ", problems)}");
    }

    public override string ToString() => Type + " x" + Factor.ToString(CultureInfo.InvariantCulture);
}
