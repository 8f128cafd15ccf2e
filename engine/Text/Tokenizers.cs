using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SparOrleans.Core.Errors;

namespace SparOrleans.Engine.Text;

/// <summary>Text ⇄ token ids. Special tokens are never produced by <see cref="Encode"/>: templates insert them by id.</summary>
public interface ITokenizer
{
    /// <summary>"byte" or "hf-bpe"; saved with checkpoints so the right tokenizer is rebuilt.</summary>
    string Kind { get; }

    int VocabSize { get; }

    int PadId { get; }

    int BosId { get; }

    int EosId { get; }

    IReadOnlyList<int> Encode(string text);

    /// <summary>Text of the ids, special tokens left out.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The id of a named special token (e.g. <c>&lt;|user|&gt;</c>), or throws if the vocabulary lacks it.</summary>
    int SpecialId(string token);
}

/// <summary>
/// Lossless byte-level tokenizer for the simulator: ids 0–255 are UTF-8 bytes, then a handful of special tokens
/// (pad, bos, eos and one marker per chat role). The vocabulary is 264 (a multiple of 8).
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    public static readonly ByteTokenizer Instance = new();

    private static readonly string[] Specials = ["<|pad|>", "<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>"];

    public string Kind => "byte";

    public int VocabSize => 264;

    public int PadId => 256;

    public int BosId => 257;

    public int EosId => 258;

    public IReadOnlyList<int> Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            ids[i] = bytes[i];
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids) =>
        Encoding.UTF8.GetString(ids.Where(i => i is >= 0 and < 256).Select(i => (byte)i).ToArray());

    public int SpecialId(string token)
    {
        var index = Array.IndexOf(Specials, token);
        return index >= 0 ? 256 + index : throw new ArgumentException($"byte tokenizer has no special token {token}", nameof(token));
    }
}

/// <summary>
/// A HF <c>tokenizer.json</c> byte-level BPE (GPT-2 / Llama-3 style) through Microsoft.ML.Tokenizers. Added tokens
/// (e.g. <c>&lt;|eot_id|&gt;</c>) are special ids; the pre-tokenizer's Split regex is used when present.
/// </summary>
public sealed class HfBpeTokenizer : ITokenizer
{
    // GPT-2's split pattern, the fallback when tokenizer.json names none.
    private const string Gpt2Pattern = SubwordTrainer.SplitPattern;

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _special;
    private readonly HashSet<int> _specialIds;

    private HfBpeTokenizer(BpeTokenizer bpe, Dictionary<string, int> special, int vocabSize, string json)
    {
        _bpe = bpe;
        _special = special;
        _specialIds = [.. special.Values];
        VocabSize = vocabSize;
        Json = json;
        BosId = FirstSpecial("<|begin_of_text|>", "<|bos|>", "<s>", "<|endoftext|>");
        EosId = FirstSpecial("<|eot_id|>", "<|eos|>", "<|end_of_text|>", "</s>", "<|endoftext|>");
        PadId = FirstSpecial("<|finetune_right_pad_id|>", "<|pad|>", "<pad>", "<|end_of_text|>", "<|endoftext|>", "</s>");
    }

    /// <summary>The original tokenizer.json text, written back unchanged with checkpoints.</summary>
    public string Json { get; }

    public string Kind => "hf-bpe";

    public int VocabSize { get; }

    public int PadId { get; }

    public int BosId { get; }

    public int EosId { get; }

    private int FirstSpecial(params string[] names)
    {
        foreach (var n in names)
        {
            if (_special.TryGetValue(n, out var id))
            {
                return id;
            }
        }
        return _special.Count > 0 ? _special.Values.Min() : 0;
    }

    public static HfBpeTokenizer Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"{path}: tokenizer file not found");
        }
        return Parse(File.ReadAllText(path), path);
    }

    public static HfBpeTokenizer Parse(string json, string sourceName)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new UserInputException($"{sourceName}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{sourceName}: not valid JSON ({e.Message})");
        }
        if (root["model"] is not JsonObject model || model["type"]?.GetValue<string>() != "BPE" || model["vocab"] is not JsonObject vocabNode)
        {
            throw new UserInputException($"{sourceName}: only BPE tokenizer.json files are supported (model.type must be BPE with a vocab)");
        }
        var vocab = vocabNode.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value!.GetValue<int>())).ToList();
        var merges = (model["merges"] as JsonArray ?? []).Select(m => m switch
        {
            JsonArray pair => $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}",
            _ => m!.GetValue<string>(),
        }).ToList();
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in root["added_tokens"] as JsonArray ?? [])
        {
            special[t!["content"]!.GetValue<string>()] = t["id"]!.GetValue<int>();
        }
        var pattern = FindSplitPattern(root["pre_tokenizer"]) ?? Gpt2Pattern;
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null),
        };
        var bpe = BpeTokenizer.Create(options);
        var vocabSize = Math.Max(vocab.Max(kv => kv.Value), special.Count > 0 ? special.Values.Max() : 0) + 1;
        return new HfBpeTokenizer(bpe, special, vocabSize, json);
    }

    private static string? FindSplitPattern(JsonNode? node)
    {
        if (node is not JsonObject o)
        {
            return null;
        }
        if (o["type"]?.GetValue<string>() == "Split" && o["pattern"]?["Regex"] is { } regex)
        {
            return regex.GetValue<string>();
        }
        foreach (var child in o["pretokenizers"] as JsonArray ?? [])
        {
            if (FindSplitPattern(child) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    public IReadOnlyList<int> Encode(string text) => text.Length == 0 ? [] : _bpe.EncodeToIds(text);

    public string Decode(IEnumerable<int> ids) => _bpe.Decode(ids.Where(i => !_specialIds.Contains(i))) ?? "";

    public int SpecialId(string token) =>
        _special.TryGetValue(token, out var id) ? id : throw new UserInputException($"tokenizer has no special token {token}");
}
