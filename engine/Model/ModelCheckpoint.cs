using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// A model directory in the HF layout: <c>config.json</c>, <c>model.safetensors</c> (or shards listed by
/// <c>model.safetensors.index.json</c>, read only), <c>tokenizer.json</c> for BPE models, and
/// <c>tokenizer_config.json</c> naming the tokenizer kind and chat template.
/// </summary>
public static class ModelCheckpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    /// <summary>Writes the model into <paramref name="directory"/> (created if needed), each file via a temp file.</summary>
    public static void Save(LanguageModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        var tensors = model.Network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        Safetensors.Write(Path.Combine(directory, WeightsFile), tensors,
            new Dictionary<string, string> { ["format"] = "pt", ["spar_version"] = model.Version });
        WriteText(Path.Combine(directory, ConfigFile), model.Config.ToHfJson());
        if (model.Tokenizer is HfBpeTokenizer bpe)
        {
            WriteText(Path.Combine(directory, TokenizerFile), bpe.Json);
        }
        var tokConfig = new JsonObject
        {
            ["spar_tokenizer"] = model.Tokenizer.Kind,
            ["spar_chat_template"] = model.Template.Name,
            ["spar_model_version"] = model.Version,
        };
        WriteText(Path.Combine(directory, TokenizerConfigFile), tokConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    internal static void WriteText(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Loads a model directory. Every parameter must be present with the right shape: otherwise a
    /// <see cref="UserInputException"/> names the missing, mismatched and unexpected tensors. HF's
    /// <c>rotary_emb.inv_freq</c> buffers and a redundant <c>lm_head.weight</c> of a tied model are skipped.
    /// </summary>
    public static LanguageModel Load(string directory, string device = "cpu", string? version = null)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new UserInputException($"{directory}: not a model directory ({ConfigFile} not found)");
        }
        var config = LlamaConfig.FromHfJson(File.ReadAllText(configPath), configPath);
        var (template, savedVersion) = LoadTemplate(directory);
        var files = WeightFiles(directory);
        Native.TorchRuntime.EnsureNativeLibraryPatched();
        var network = new LlamaForCausalLM(config);
        try
        {
            LoadWeights(network, files, directory);
            network.to(Native.TorchRuntime.ResolveDevice(device));
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return new LanguageModel(network, template, version ?? savedVersion ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)));
    }

    private static (IChatTemplate Template, string? Version) LoadTemplate(string directory)
    {
        var tokConfigPath = Path.Combine(directory, TokenizerConfigFile);
        JsonObject? tokConfig = null;
        if (File.Exists(tokConfigPath))
        {
            try
            {
                tokConfig = JsonNode.Parse(File.ReadAllText(tokConfigPath)) as JsonObject;
            }
            catch (JsonException e)
            {
                throw new UserInputException($"{tokConfigPath}: not valid JSON ({e.Message})");
            }
        }
        var tokenizerJson = Path.Combine(directory, TokenizerFile);
        var kind = tokConfig?["spar_tokenizer"]?.GetValue<string>() ?? (File.Exists(tokenizerJson) ? "hf-bpe" : "byte");
        ITokenizer tokenizer = kind switch
        {
            "byte" => ByteTokenizer.Instance,
            "hf-bpe" => HfBpeTokenizer.Load(tokenizerJson),
            _ => throw new UserInputException($"{tokConfigPath}: unknown spar_tokenizer '{kind}'"),
        };
        var templateName = tokConfig?["spar_chat_template"]?.GetValue<string>() ?? (kind == "byte" ? "compact" : "llama3");
        return (ChatTemplates.Create(templateName, tokenizer), tokConfig?["spar_model_version"]?.GetValue<string>());
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
        try
        {
            var map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                ?? throw new UserInputException($"{index}: missing weight_map");
            return [.. map.Select(kv => Path.Combine(directory, kv.Value!.GetValue<string>())).Distinct()];
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{index}: not valid JSON ({e.Message})");
        }
    }

    private static void LoadWeights(LlamaForCausalLM network, List<string> files, string directory)
    {
        var expected = network.state_dict();
        var found = new Dictionary<string, (string File, long[] Shape)>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new UserInputException($"{directory}: weight shard {Path.GetFileName(file)} not found");
            }
            foreach (var (name, entry) in Safetensors.ReadHeader(file, out var dataStart))
            {
                if (name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)
                    || (name == "lm_head.weight" && network.Config.TieWordEmbeddings))
                {
                    continue;
                }
                found[name] = (file, entry.Shape);
            }
        }
        var missing = expected.Keys.Where(k => !found.ContainsKey(k)).ToList();
        var unexpected = found.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var mismatched = expected.Where(kv => found.TryGetValue(kv.Key, out var f) && !f.Shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (checkpoint [{string.Join(",", found[kv.Key].Shape)}], model [{string.Join(",", kv.Value.shape)}])")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
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
            throw new UserInputException($"{directory}: checkpoint does not fit its config.json; {string.Join("; ", parts)}");
        }
        using var noGrad = no_grad();
        foreach (var group in found.GroupBy(kv => kv.Value.File))
        {
            var loaded = Safetensors.Read(group.Key, group.Select(kv => kv.Key));
            foreach (var (name, t) in loaded)
            {
                expected[name].copy_(t);
                t.Dispose();
            }
        }
    }

    private static string Names(List<string> names) =>
        string.Join(", ", names.Take(12)) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
}
