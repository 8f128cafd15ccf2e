using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Engine.Text;

/// <summary>
/// The tokenizer and chat template of a model directory: <c>tokenizer.json</c> and <c>tokenizer_config.json</c>, as
/// HF writes them (the template recognised from <c>chat_template</c>; bos/eos/pad from <c>bos_token</c>,
/// <c>eos_token</c>, <c>pad_token</c>; <c>clean_up_tokenization_spaces</c>) or as our checkpoints write them
/// (<c>spar_tokenizer</c>, <c>spar_chat_template</c>, which win when present).
/// </summary>
public static class TokenizerFiles
{
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    /// <summary>The template (with its tokenizer) of the model in <paramref name="modelDirectory"/>.</summary>
    public static IChatTemplate Load(string modelDirectory, ChatTemplateOptions? options = null)
    {
        var (tokenizerJson, configJson) = ReadFiles(modelDirectory);
        return Parse(tokenizerJson, configJson, modelDirectory, options);
    }

    /// <summary>
    /// The tokenizer alone (bos/eos/pad and clean-up from tokenizer_config.json), for a model whose files name no chat
    /// template (a base model): pair it with <see cref="ChatTemplates.Create"/> by name.
    /// </summary>
    public static ITokenizer LoadTokenizer(string modelDirectory)
    {
        var (tokenizerJson, configJson) = ReadFiles(modelDirectory);
        return ParseTokenizer(tokenizerJson, ParseConfig(configJson, modelDirectory), modelDirectory).Tokenizer;
    }

    /// <summary>As <see cref="Load"/>, from the two files' texts (null: absent); <paramref name="source"/> names them in errors.</summary>
    public static IChatTemplate Parse(string? tokenizerJson, string? tokenizerConfigJson, string source, ChatTemplateOptions? options = null)
    {
        var config = ParseConfig(tokenizerConfigJson, source);
        var configName = Path.Combine(source, TokenizerConfigFile);
        var (tokenizer, kind) = ParseTokenizer(tokenizerJson, config, source);
        var name = Text(config?["spar_chat_template"]);
        if (name is null)
        {
            if (kind == "byte")
            {
                name = "compact";
            }
            else if (ChatTemplateText(config?["chat_template"], configName) is { } jinja)
            {
                name = ChatTemplates.Recognize(jinja, configName);
            }
            else
            {
                throw new UserInputException($"{configName}: no chat_template (nor spar_chat_template), so the model's chat format is unknown " +
                    $"(a base model: load its tokenizer alone and name a template, one of {string.Join(", ", ChatTemplates.Names)})");
            }
        }
        return ChatTemplates.Create(name, tokenizer, options);
    }

    private static (string? Tokenizer, string? Config) ReadFiles(string modelDirectory)
    {
        var tokenizerPath = Path.Combine(modelDirectory, TokenizerFile);
        var configPath = Path.Combine(modelDirectory, TokenizerConfigFile);
        return (File.Exists(tokenizerPath) ? File.ReadAllText(tokenizerPath) : null, File.Exists(configPath) ? File.ReadAllText(configPath) : null);
    }

    private static JsonObject? ParseConfig(string? json, string source)
    {
        if (json is null)
        {
            return null;
        }
        var configName = Path.Combine(source, TokenizerConfigFile);
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new UserInputException($"{configName}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{configName}: not valid JSON ({e.Message})");
        }
    }

    private static (ITokenizer Tokenizer, string Kind) ParseTokenizer(string? tokenizerJson, JsonObject? config, string source)
    {
        var configName = Path.Combine(source, TokenizerConfigFile);
        var kind = Text(config?["spar_tokenizer"]) ?? (tokenizerJson is not null ? "hf-bpe" : "byte");
        ITokenizer tokenizer = kind switch
        {
            "byte" => ByteTokenizer.Instance,
            "hf-bpe" => WithConfig(HfBpeTokenizer.Parse(tokenizerJson ?? throw new UserInputException($"{source}: {TokenizerFile} not found"),
                Path.Combine(source, TokenizerFile)), config, configName),
            _ => throw new UserInputException($"{configName}: unknown spar_tokenizer '{kind}'"),
        };
        return (tokenizer, kind);
    }

    /// <summary>
    /// The tokenizer_config.json keys from which <see cref="Load"/> rebuilds <paramref name="template"/> as it is:
    /// <c>spar_tokenizer</c>, <c>spar_chat_template</c>, and for a tokenizer.json tokenizer its bos/eos/pad tokens and
    /// clean-up flag under HF's names (without them a reloaded Qwen would take its eos from well-known names).
    /// </summary>
    public static JsonObject ConfigKeys(IChatTemplate template)
    {
        var keys = new JsonObject { ["spar_tokenizer"] = template.Tokenizer.Kind, ["spar_chat_template"] = template.Name };
        if (template.Tokenizer is HfBpeTokenizer bpe)
        {
            keys["bos_token"] = bpe.TokenContent(bpe.BosId);
            keys["eos_token"] = bpe.TokenContent(bpe.EosId);
            keys["pad_token"] = bpe.TokenContent(bpe.PadId);
            keys["clean_up_tokenization_spaces"] = bpe.CleanUpTokenizationSpaces;
        }
        return keys;
    }

    private static string? ChatTemplateText(JsonNode? node, string source)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v:
                return v.GetValue<string>();
            case JsonArray list:
                // HF's named templates: "default" is the one apply_chat_template uses unless told otherwise.
                var named = list.OfType<JsonObject>().ToDictionary(t => Text(t["name"]) ?? "", t => Text(t["template"]) ?? "");
                return named.TryGetValue("default", out var template)
                    ? template
                    : throw new UserInputException($"{source}: chat_template has no template named 'default' (found {string.Join(", ", named.Keys)})");
            default:
                throw new UserInputException($"{source}: chat_template is neither a string nor a list of named templates");
        }
    }

    private static HfBpeTokenizer WithConfig(HfBpeTokenizer tokenizer, JsonObject? config, string source)
    {
        if (config is null)
        {
            return tokenizer;
        }
        int? Id(string key)
        {
            var content = config[key] is JsonObject o ? Text(o["content"]) : Text(config[key]);
            return content is null ? null : tokenizer.TryGetId(content) ?? throw new UserInputException($"{source}: {key} '{content}' is not in the tokenizer's vocabulary");
        }
        return tokenizer.WithConfig(Id("bos_token"), Id("eos_token"), Id("pad_token"),
            config["clean_up_tokenization_spaces"]?.GetValue<bool>() ?? false);
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
