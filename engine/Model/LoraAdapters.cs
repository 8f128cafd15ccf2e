using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// LoRA settings, named as PEFT's <c>LoraConfig</c>. <see cref="TargetModules"/> lists projection names
/// (<c>q_proj</c>, ..., <c>down_proj</c>); <c>all-linear</c> is every projection of every layer (the head excluded),
/// LLaMA-Factory's default.
/// </summary>
public sealed record LoraOptions(int Rank = 16, double Alpha = 32, double Dropout = 0.05, bool RsLora = false) : IValidatedOptions
{
    public static readonly IReadOnlyList<string> AllLinear = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public IReadOnlyList<string> TargetModules { get; init; } = AllLinear;

    public IEnumerable<string> Problems() => new ProblemList()
        .Positive("LoRA rank", Rank)
        .Positive("LoRA alpha", Alpha)
        .Require(Dropout is >= 0 and < 1, $"LoRA dropout must be in [0, 1) (got {Dropout})")
        .Require(TargetModules.Count > 0, "LoRA target modules must not be empty")
        .Require(TargetModules.All(AllLinear.Contains),
            $"LoRA target modules must be among {string.Join(", ", AllLinear)} (got {string.Join(", ", TargetModules.Where(m => !AllLinear.Contains(m)))})");

    /// <summary>Parses PEFT's <c>target_modules</c> spelling: a list, one name, or <c>all-linear</c>.</summary>
    public static IReadOnlyList<string> ParseTargets(IEnumerable<string> names)
    {
        var list = names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return list is ["all-linear"] or ["all"] ? AllLinear : list.Distinct().ToList();
    }
}

/// <summary>
/// LoRA adapters on a <see cref="LlamaForCausalLM"/>: attach, freeze the base, switch off (DPO's reference policy is
/// the same network without them), merge into the weights, and save/load in PEFT's layout
/// (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c> named
/// <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>), so PEFT and vLLM read what we write.
/// </summary>
public static class LoraAdapters
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    private const string PeftPrefix = "base_model.model.";

    public static bool IsAdapterName(string parameterName) =>
        parameterName.Contains(".lora_A.", StringComparison.Ordinal) || parameterName.Contains(".lora_B.", StringComparison.Ordinal);

    /// <summary>The options the network's adapters were attached with; null when it has none.</summary>
    public static LoraOptions? Options(LlamaForCausalLM network) => Attached.TryGetValue(network, out var o) ? o : null;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LlamaForCausalLM, LoraOptions> Attached = new();

    /// <summary>
    /// Adds adapters to the targeted projections and freezes every base weight, so only adapters train. A fresh
    /// adapter is a no-op (B = 0): the network computes exactly what it did before.
    /// </summary>
    public static void Attach(LlamaForCausalLM network, LoraOptions options)
    {
        options.Validated();
        if (Options(network) is not null)
        {
            throw new InvalidOperationException("the network already has LoRA adapters; merge them first");
        }
        foreach (var (_, projection) in Targets(network, options))
        {
            projection.AttachLora(options.Rank, options.Alpha, options.Dropout, options.RsLora);
        }
        foreach (var p in network.Weights().Values)
        {
            p.requires_grad = false;
        }
        Attached.Add(network, options);
    }

    private static IEnumerable<(string Path, AdaptedLinear Projection)> Targets(LlamaForCausalLM network, LoraOptions options) =>
        network.Projections().Where(p => options.TargetModules.Contains(p.Path[(p.Path.LastIndexOf('.') + 1)..]));

    /// <summary>The adapter tensors under PEFT's names.</summary>
    public static Dictionary<string, Tensor> AdapterTensors(LlamaForCausalLM network) =>
        network.named_parameters().Where(kv => IsAdapterName(kv.name))
            .ToDictionary(kv => PeftPrefix + kv.name, kv => (Tensor)kv.parameter, StringComparer.Ordinal);

    /// <summary>While the returned scope lives, the network computes without its adapters (the base model).</summary>
    public static IDisposable Disabled(LlamaForCausalLM network)
    {
        var adapted = network.Projections().Select(p => p.Projection).Where(p => p.LoraA is not null).ToList();
        adapted.ForEach(p => p.AdapterEnabled = false);
        return new Restore(() => adapted.ForEach(p => p.AdapterEnabled = true));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>
    /// Folds each adapter into its base weight (W += B·A·scaling, computed in fp32 and rounded once to the base
    /// dtype), then zeroes the adapter so the network's output is unchanged. The adapters stay attached: a fresh
    /// round of training starts from the merged model, as PEFT's <c>merge_and_unload</c> followed by a new adapter.
    /// </summary>
    public static void Merge(LlamaForCausalLM network)
    {
        using var noGrad = no_grad();
        foreach (var (_, p) in network.Projections())
        {
            if (p.LoraA is null)
            {
                continue;
            }
            var weight = p.Linear.weight!;
            using var delta = p.LoraB!.weight!.matmul(p.LoraA.weight!) * p.Scaling;
            using var merged = weight.to(ScalarType.Float32) + delta;
            weight.copy_(merged.to(weight.dtype));
            // A fresh PEFT adapter: B zero, A re-drawn as at attach time.
            nn.init.zeros_(p.LoraB.weight!);
            nn.init.kaiming_uniform_(p.LoraA.weight!, Math.Sqrt(5));
        }
    }

    /// <summary>Writes <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> as PEFT's <c>save_pretrained</c> does.</summary>
    public static void Save(LlamaForCausalLM network, string directory, string? baseModel = null)
    {
        var options = Options(network) ?? throw new InvalidOperationException("the network has no LoRA adapters to save");
        Directory.CreateDirectory(directory);
        Safetensors.Write(Path.Combine(directory, WeightsFile), AdapterTensors(network),
            new Dictionary<string, string> { ["format"] = "pt" });
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = options.Rank,
            ["lora_alpha"] = options.Alpha,
            ["lora_dropout"] = options.Dropout,
            ["target_modules"] = new JsonArray(options.TargetModules.Select(m => (JsonNode)m).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = options.RsLora,
            ["use_dora"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["modules_to_save"] = null,
            ["layers_to_transform"] = null,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
        };
        ModelCheckpoint.WriteText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The base model directory of the adapter in <paramref name="directory"/>, or null when it holds no adapter. An
    /// adapter whose base is not a local directory (a hub id) is refused: nothing can be downloaded here.
    /// </summary>
    public static string? BaseOf(string directory)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
        {
            return null;
        }
        var baseModel = JsonNode.Parse(File.ReadAllText(configPath))?["base_model_name_or_path"]?.GetValue<string>();
        if (string.IsNullOrEmpty(baseModel))
        {
            throw new UserInputException($"{configPath}: no base_model_name_or_path: cannot tell which model the adapter goes on.");
        }
        var full = Path.IsPathRooted(baseModel) ? baseModel : Path.GetFullPath(Path.Combine(directory, baseModel));
        return Directory.Exists(full)
            ? full
            : throw new UserInputException($"{configPath}: its base model '{baseModel}' is not a local directory.");
    }

    /// <summary>
    /// Reads a PEFT LoRA adapter directory into <paramref name="network"/> (attaching adapters first). Features PEFT
    /// has and this engine does not compute (DoRA, per-layer rank patterns, trained biases, extra saved modules,
    /// Conv1D layouts) are refused by name rather than loaded approximately.
    /// </summary>
    public static void Load(LlamaForCausalLM network, string directory)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new UserInputException($"{directory}: not a PEFT adapter directory ({ConfigFile} not found)");
        }
        var options = ReadOptions(configPath);
        if (!File.Exists(Path.Combine(directory, WeightsFile)))
        {
            throw new UserInputException($"{directory}: {WeightsFile} not found");
        }
        Attach(network, options);
        ReadWeights(network, directory);
    }

    /// <summary>Copies the adapter weights saved in <paramref name="directory"/> into the network's attached adapters.</summary>
    public static void ReadWeights(LlamaForCausalLM network, string directory)
    {
        var weightsPath = Path.Combine(directory, WeightsFile);
        var expected = AdapterTensors(network);
        if (!File.Exists(weightsPath))
        {
            throw new UserInputException($"{directory}: {WeightsFile} not found");
        }
        var header = Safetensors.ReadHeader(weightsPath, out _);
        // PEFT writes adapter names without the adapter's name; older versions kept ".default".
        var names = header.Keys.ToDictionary(n => n.Replace(".default.weight", ".weight", StringComparison.Ordinal), n => n, StringComparer.Ordinal);
        var missing = expected.Keys.Where(k => !names.ContainsKey(k)).ToList();
        var unexpected = names.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var mismatched = expected.Where(kv => names.TryGetValue(kv.Key, out var n) && !header[n].Shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (adapter [{string.Join(",", header[names[kv.Key]].Shape)}], model [{string.Join(",", kv.Value.shape)}])").ToList();
        ModelCheckpoint.ThrowIfMisfit(directory, "adapter does not fit the model", missing, mismatched, unexpected);
        using var noGrad = no_grad();
        foreach (var (name, t) in Safetensors.ReadEach(weightsPath, names.Values))
        {
            var key = name.Replace(".default.weight", ".weight", StringComparison.Ordinal);
            expected[key].copy_(t);
            t.Dispose();
        }
    }

    internal static LoraOptions ReadOptions(string configPath)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                ?? throw new UserInputException($"{configPath}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{configPath}: not valid JSON ({e.Message})");
        }
        try
        {
            var type = o["peft_type"]?.GetValue<string>();
            if (type != "LORA")
            {
                throw new UserInputException($"{configPath}: peft_type '{type}' is not supported (only LORA)");
            }
            void Refuse(bool unsupported, string what)
            {
                if (unsupported)
                {
                    throw new UserInputException($"{configPath}: {what} is not supported");
                }
            }
            Refuse(o["use_dora"]?.GetValue<bool>() ?? false, "use_dora (DoRA)");
            Refuse(o["fan_in_fan_out"]?.GetValue<bool>() ?? false, "fan_in_fan_out");
            Refuse((o["bias"]?.GetValue<string>() ?? "none") != "none", $"bias '{o["bias"]}'");
            Refuse(o["modules_to_save"] is JsonArray { Count: > 0 }, "modules_to_save");
            Refuse(o["layers_to_transform"] is not null, "layers_to_transform");
            Refuse(o["rank_pattern"] is JsonObject { Count: > 0 }, "rank_pattern");
            Refuse(o["alpha_pattern"] is JsonObject { Count: > 0 }, "alpha_pattern");
            var targets = o["target_modules"] switch
            {
                JsonArray a => a.Select(n => n!.GetValue<string>()).ToList(),
                JsonValue v => [v.GetValue<string>()],
                _ => throw new UserInputException($"{configPath}: target_modules is missing"),
            };
            var options = new LoraOptions(
                o["r"]?.GetValue<int>() ?? throw new UserInputException($"{configPath}: r is missing"),
                o["lora_alpha"]?.GetValue<double>() ?? throw new UserInputException($"{configPath}: lora_alpha is missing"),
                o["lora_dropout"]?.GetValue<double>() ?? 0,
                o["use_rslora"]?.GetValue<bool>() ?? false)
            {
                TargetModules = LoraOptions.ParseTargets(targets),
            };
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? options : throw new UserInputException($"{configPath}: {string.Join("; ", problems)}");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new UserInputException($"{configPath}: a value has the wrong type ({e.Message})");
        }
    }
}
