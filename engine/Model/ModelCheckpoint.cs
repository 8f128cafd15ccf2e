using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// A model directory in the HF layout: <c>config.json</c>, <c>model.safetensors</c> (or shards listed by
/// <c>model.safetensors.index.json</c>), <c>tokenizer.json</c> and <c>tokenizer_config.json</c> (tokenizer and chat
/// template). Weights are stored by their HF names only, one tensor per parameter, in the model's dtype.
/// </summary>
public static class ModelCheckpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    // Files of a real model's tokenizer, copied as they are when such a model is saved again.
    private static readonly string[] TokenizerFileNames =
        [TokenizerFile, TokenizerConfigFile, "special_tokens_map.json", "generation_config.json", "tokenizer.model", "chat_template.jinja", "chat_template.json"];

    /// <summary>The dtypes a model can be loaded in, by the names HF's <c>torch_dtype</c> uses.</summary>
    public static readonly IReadOnlyList<string> DtypeNames = ["float32", "bfloat16", "float16"];

    /// <summary>Writes the model into <paramref name="directory"/> (created if needed), each file via a temp file.</summary>
    public static void Save(LanguageModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        var weights = model.Network.Weights().ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value, StringComparer.Ordinal);
        Safetensors.Write(Path.Combine(directory, WeightsFile), weights,
            new Dictionary<string, string> { ["format"] = "pt", ["spar_version"] = model.Version });
        // A sharded checkpoint saved into the same folder before would otherwise be read instead of this file.
        File.Delete(Path.Combine(directory, IndexFile));
        WriteText(Path.Combine(directory, ConfigFile), (model.Config with { TorchDtype = DtypeName(model.Network.DType) }).ToHfJson());
        if (model.SourceDirectory is { } source && IsForeign(source)
            && Path.GetFullPath(source) != Path.GetFullPath(directory))
        {
            foreach (var name in TokenizerFileNames.Where(n => File.Exists(Path.Combine(source, n))))
            {
                File.Copy(Path.Combine(source, name), Path.Combine(directory, name), overwrite: true);
            }
            return;
        }
        if (model.Tokenizer is HfBpeTokenizer bpe)
        {
            WriteText(Path.Combine(directory, TokenizerFile), bpe.Json);
        }
        var tokConfig = TokenizerFiles.ConfigKeys(model.Template);
        tokConfig["spar_model_version"] = model.Version;
        WriteText(Path.Combine(directory, TokenizerConfigFile), tokConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // A directory whose tokenizer files another tool wrote (no spar_* keys): they are kept verbatim.
    private static bool IsForeign(string directory)
    {
        var path = Path.Combine(directory, TokenizerConfigFile);
        return File.Exists(path) && !File.ReadAllText(path).Contains("\"spar_chat_template\"", StringComparison.Ordinal);
    }

    public static string DtypeName(ScalarType type) => type switch
    {
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => "float32",
    };

    /// <summary>The dtype called <paramref name="name"/> (HF's names, plus bf16/fp16/fp32); a user error otherwise.</summary>
    public static ScalarType ParseDtype(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => ScalarType.Float16,
        _ => throw new UserInputException($"unknown dtype '{name}' (expected float32, bfloat16 or float16)"),
    };

    internal static void WriteText(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Loads a model directory with its tokenizer and chat template. <paramref name="dtype"/> null keeps fp32 (the
    /// engine's default on CPU, whatever the files hold). See <see cref="LoadNetwork"/> for what is refused.
    /// </summary>
    public static LanguageModel Load(string directory, string device = "cpu", string? version = null, ScalarType? dtype = null)
    {
        var (template, savedVersion) = LoadTemplate(directory);
        var network = LoadNetwork(directory, device, dtype, out var fileVersion);
        return new LanguageModel(network, template,
            version ?? savedVersion ?? fileVersion ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)))
        {
            SourceDirectory = directory,
        };
    }

    /// <summary>
    /// <see cref="Load"/> for a model directory, or for a PEFT adapter directory (<c>adapter_config.json</c>): its
    /// <c>base_model_name_or_path</c>, which must be a local directory, loaded with the adapter attached (not merged,
    /// so it can train on). A run that trains by LoRA keeps each version as such an adapter over M_0.
    /// </summary>
    public static LanguageModel LoadModelOrAdapter(string directory, string device = "cpu", string? version = null, ScalarType? dtype = null)
    {
        if (LoraAdapters.BaseOf(directory) is not { } baseDirectory)
        {
            return Load(directory, device, version, dtype);
        }
        var model = Load(baseDirectory, device, version ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), dtype);
        try
        {
            LoraAdapters.Load(model.Network, directory);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The network alone (no tokenizer needed). Every parameter must be present under its HF name with the right
    /// shape; otherwise a <see cref="UserInputException"/> names the missing, mis-shaped and unexpected tensors.
    /// HF's rotary buffers (<c>rotary_emb.inv_freq</c>), a tied model's redundant <c>lm_head.weight</c> and the alias
    /// names our own earlier checkpoints carried are skipped.
    /// </summary>
    public static LlamaForCausalLM LoadNetwork(string directory, string device = "cpu", ScalarType? dtype = null) =>
        LoadNetwork(directory, device, dtype, out _);

    private static LlamaForCausalLM LoadNetwork(string directory, string device, ScalarType? dtype, out string? savedVersion)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new UserInputException($"{directory}: not a model directory ({ConfigFile} not found)");
        }
        var config = LlamaConfig.FromHfJson(File.ReadAllText(configPath), configPath);
        var files = WeightFiles(directory);
        var headers = files.Select(f => (File: f, Entries: Safetensors.ReadHeader(f, out var meta), Meta: meta)).ToList();
        savedVersion = headers.Select(h => h.Meta.GetValueOrDefault("spar_version")).FirstOrDefault(v => v is not null);
        var targetDevice = Native.TorchRuntime.ResolveDevice(device);
        var type = dtype ?? ScalarType.Float32;
        var network = new LlamaForCausalLM(config with { TorchDtype = DtypeName(type) }, type, initialize: false);
        try
        {
            LoadWeights(network, headers, directory, ownAliases: savedVersion is not null);
            network.MoveTo(targetDevice);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>
    /// What loading <paramref name="directory"/> (a model, or an adapter over its base) would refuse, found without
    /// reading any weights: the config, the weight files' headers, the tokenizer and chat template, the adapter's
    /// config. Cheap at any scale, so a command can check its inputs before it starts anything. Returns the config.
    /// </summary>
    public static LlamaConfig Inspect(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new UserInputException($"no model directory {directory}");
        }
        var modelDirectory = LoraAdapters.BaseOf(directory) ?? directory;
        var configPath = Path.Combine(modelDirectory, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new UserInputException($"{modelDirectory}: not a model directory ({ConfigFile} not found)");
        }
        var config = LlamaConfig.FromHfJson(File.ReadAllText(configPath), configPath);
        foreach (var file in WeightFiles(modelDirectory))
        {
            Safetensors.ReadHeader(file, out _);
        }
        LoadTemplate(modelDirectory);
        if (modelDirectory != directory)
        {
            LoraAdapters.ReadOptions(Path.Combine(directory, LoraAdapters.ConfigFile));
        }
        return config;
    }

    // The tokenizer and chat template come from the directory's tokenizer files (TokenizerFiles: tokenizer.json and
    // tokenizer_config.json's chat_template, or our own spar_* keys); the version label is ours alone.
    private static (IChatTemplate Template, string? Version) LoadTemplate(string directory)
    {
        var template = TokenizerFiles.Load(directory);
        var configPath = Path.Combine(directory, TokenizerConfigFile);
        string? version = null;
        if (File.Exists(configPath))
        {
            try
            {
                version = (JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject)?["spar_model_version"]?.GetValue<string>();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new UserInputException($"{configPath}: not valid JSON ({e.Message})");
            }
        }
        return (template, version);
    }

    private static List<string> WeightFiles(string directory)
    {
        var single = Path.Combine(directory, WeightsFile);
        if (File.Exists(single))
        {
            return [single];
        }
        var index = Path.Combine(directory, IndexFile);
        if (!File.Exists(index))
        {
            throw new UserInputException($"{directory}: neither {WeightsFile} nor {IndexFile} found");
        }
        List<string> files;
        try
        {
            var map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                ?? throw new UserInputException($"{index}: missing weight_map");
            files = [.. map.Select(kv => kv.Value!.GetValue<string>()).Distinct().Select(f => Path.Combine(directory, f))];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new UserInputException($"{index}: not a valid index ({e.Message})");
        }
        var absent = files.Where(f => !File.Exists(f)).Select(Path.GetFileName).ToList();
        return absent.Count == 0 ? files
            : throw new UserInputException($"{directory}: weight shard {string.Join(", ", absent)} not found (listed in {IndexFile})");
    }

    // HF checkpoints may carry buffers that are not parameters: the rotary tables of older Llama exports.
    private static bool IsHfBuffer(string name) => name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal);

    private static void LoadWeights(LlamaForCausalLM network, List<(string File, Dictionary<string, SafetensorsEntry> Entries, Dictionary<string, string> Meta)> headers,
        string directory, bool ownAliases)
    {
        var expected = network.Weights();
        var found = new Dictionary<string, (string File, long[] Shape)>(StringComparer.Ordinal);
        foreach (var (file, entries, _) in headers)
        {
            foreach (var (name, entry) in entries)
            {
                if (IsHfBuffer(name) || (name == "lm_head.weight" && network.Config.TieWordEmbeddings))
                {
                    continue;
                }
                found[name] = (file, entry.Shape);
            }
        }
        var missing = expected.Keys.Where(k => !found.ContainsKey(k)).ToList();
        // Our checkpoints written before the save went by HF names also held every tensor under its C# field
        // names (`_q`, `EmbedTokens`, ...): extra copies of the same weights, safe to pass over.
        var unexpected = ownAliases ? [] : found.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var mismatched = expected.Where(kv => found.TryGetValue(kv.Key, out var f) && !f.Shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (checkpoint [{string.Join(",", found[kv.Key].Shape)}], model [{string.Join(",", kv.Value.shape)}])")
            .ToList();
        ThrowIfMisfit(directory, "checkpoint does not fit its config.json", missing, mismatched, unexpected);
        using var noGrad = no_grad();
        foreach (var group in found.Where(kv => expected.ContainsKey(kv.Key)).GroupBy(kv => kv.Value.File))
        {
            foreach (var (name, t) in Safetensors.ReadEach(group.Key, group.Select(kv => kv.Key)))
            {
                expected[name].copy_(t);
                t.Dispose();
            }
        }
    }

    internal static void ThrowIfMisfit(string directory, string what, List<string> missing, List<string> mismatched, List<string> unexpected)
    {
        if (missing.Count + unexpected.Count + mismatched.Count == 0)
        {
            return;
        }
        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add($"missing tensors: {Names(missing)}");
        }
        if (mismatched.Count > 0)
        {
            parts.Add($"mismatched shapes: {Names(mismatched)}");
        }
        if (unexpected.Count > 0)
        {
            parts.Add($"unexpected tensors: {Names(unexpected)}");
        }
        throw new UserInputException($"{directory}: {what}; {string.Join("; ", parts)}");
    }

    private static string Names(List<string> names) =>
        string.Join(", ", names.Take(12)) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
}
