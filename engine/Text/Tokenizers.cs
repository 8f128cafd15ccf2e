using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Engine.Text;

/// <summary>
/// Text ⇄ token ids. <see cref="Encode"/> adds no BOS/EOS (templates insert those); a BPE tokenizer turns special tokens
/// written in the text into their ids, as HF's <c>tokenizer(text, add_special_tokens=False)</c> does.
/// </summary>
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
/// A HF <c>tokenizer.json</c> BPE tokenizer, implemented here rather than through a library (engine/README.md says
/// why): added tokens written in text are matched with their flags, then the file's normalizer, pre-tokenizer, BPE
/// model (byte-level or SentencePiece-style with byte fallback) and decoder apply. A component type it does not
/// implement is refused by name. <see cref="Encode"/> equals HF's <c>tokenizer(text, add_special_tokens=False)</c>.
/// </summary>
public sealed class HfBpeTokenizer : ITokenizer
{
    private readonly Dictionary<string, int> _added;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly BpeModel _model;
    private readonly Decoder? _decoder;

    private HfBpeTokenizer(string json, List<AddedToken> added, Normalizer? normalizer, PreTokenizer? preTokenizer, BpeModel model, Decoder? decoder)
    {
        Json = json;
        _added = new Dictionary<string, int>(StringComparer.Ordinal);
        _addedById = [];
        foreach (var t in added)
        {
            _added[t.Content] = t.Id;
            _addedById[t.Id] = t;
        }
        _rawMatcher = new AddedTokenMatcher(added.Where(t => !t.Normalized));
        // A normalized token is looked for in normalized text, so its content is normalized the same way (as HF does).
        _normalizedMatcher = new AddedTokenMatcher(added.Where(t => t.Normalized).Select(t => normalizer is null ? t : t with { Content = normalizer.Apply(t.Content) }));
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _decoder = decoder;
        VocabSize = Math.Max(model.MaxId, added.Count > 0 ? added.Max(t => t.Id) : -1) + 1;
        BosId = FirstKnown("<|begin_of_text|>", "<|bos|>", "<s>", "<|endoftext|>");
        EosId = FirstKnown("<|eot_id|>", "<|eos|>", "<|end_of_text|>", "</s>", "<|endoftext|>");
        PadId = FirstKnown("<|finetune_right_pad_id|>", "<|pad|>", "<pad>", "<|end_of_text|>", "<|endoftext|>", "</s>");
    }

    /// <summary>The original tokenizer.json text, written back unchanged with checkpoints.</summary>
    public string Json { get; }

    public string Kind => "hf-bpe";

    public int VocabSize { get; }

    public int PadId { get; private set; }

    public int BosId { get; private set; }

    public int EosId { get; private set; }

    /// <summary>Whether decoding removes the spaces HF's <c>clean_up_tokenization</c> removes (tokenizer_config.json's flag).</summary>
    public bool CleanUpTokenizationSpaces { get; private set; }

    // Without tokenizer_config.json (simulator checkpoints, bare files) the ids are guessed from well-known names,
    // as before; TokenizerFiles replaces them with the config's bos/eos/pad tokens.
    private int FirstKnown(params string[] names)
    {
        foreach (var n in names)
        {
            if (_added.TryGetValue(n, out var id) || _model.TryGetId(n, out id))
            {
                return id;
            }
        }
        return _added.Count > 0 ? _added.Values.Min() : 0;
    }

    /// <summary>A copy with the bos/eos/pad ids and decoding flag a tokenizer_config.json declares (null keeps the current one).</summary>
    public HfBpeTokenizer WithConfig(int? bos, int? eos, int? pad, bool cleanUpTokenizationSpaces)
    {
        var copy = (HfBpeTokenizer)MemberwiseClone();
        copy.BosId = bos ?? BosId;
        copy.EosId = eos ?? EosId;
        copy.PadId = pad ?? PadId;
        copy.CleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
        return copy;
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
        if (root["model"] is not JsonObject model)
        {
            throw new UserInputException($"{sourceName}: no tokenizer model");
        }
        var bpe = new BpeModel(model, sourceName);
        var added = (root["added_tokens"] as JsonArray ?? []).Select(t => new AddedToken(
            t!["id"]!.GetValue<int>(), t["content"]!.GetValue<string>(), t["special"]?.GetValue<bool>() ?? false,
            t["lstrip"]?.GetValue<bool>() ?? false, t["rstrip"]?.GetValue<bool>() ?? false,
            t["single_word"]?.GetValue<bool>() ?? false, t["normalized"]?.GetValue<bool>() ?? false)).ToList();
        return new HfBpeTokenizer(json, added, Normalizer.Parse(root["normalizer"], sourceName),
            PreTokenizer.Parse(root["pre_tokenizer"], sourceName), bpe, Decoder.Parse(root["decoder"], sourceName));
    }

    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        if (text.Length == 0)
        {
            return ids;
        }
        var raw = new List<Segment>();
        _rawMatcher.Split(text, raw);
        var normalized = new List<Segment>();
        for (var s = 0; s < raw.Count; s++)
        {
            var segment = raw[s];
            if (segment.IsToken)
            {
                ids.Add(segment.TokenId);
                continue;
            }
            normalized.Clear();
            _normalizedMatcher.Split(_normalizer?.Apply(segment.Text) ?? segment.Text, normalized);
            for (var n = 0; n < normalized.Count; n++)
            {
                if (normalized[n].IsToken)
                {
                    ids.Add(normalized[n].TokenId);
                    continue;
                }
                List<(string Text, bool First)> words = [(normalized[n].Text, s == 0 && n == 0)];
                if (_preTokenizer is not null)
                {
                    words = _preTokenizer.Split(words);
                }
                foreach (var (word, _) in words)
                {
                    _model.Tokenize(word, ids);
                }
            }
        }
        return ids;
    }

    /// <summary>Text of the ids, special tokens left out.</summary>
    public string Decode(IEnumerable<int> ids) => Decode(ids, skipSpecialTokens: true);

    /// <summary>HF's <c>decode(ids, skip_special_tokens)</c>: the file's decoder, then clean-up when the config asks for it.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>();
        foreach (var id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                if (!(skipSpecialTokens && added.Special))
                {
                    tokens.Add(added.Content);
                }
            }
            else if (_model.IdToToken.TryGetValue(id, out var token))
            {
                tokens.Add(token);
            }
        }
        var text = _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return CleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    // HF's clean_up_tokenization: the spaces an English word-level tokenizer put before punctuation and contractions.
    private static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    /// <summary>The id of an added token (or, failing that, a vocabulary entry) named <paramref name="token"/>.</summary>
    public int SpecialId(string token) =>
        _added.TryGetValue(token, out var id) || _model.TryGetId(token, out id) ? id : throw new UserInputException($"tokenizer has no special token {token}");

    /// <summary>The text of one token: an added token's content or the vocabulary entry (byte-level characters and all).</summary>
    public string TokenContent(int id) =>
        _addedById.TryGetValue(id, out var t) ? t.Content : _model.IdToToken.TryGetValue(id, out var s) ? s : throw new UserInputException($"tokenizer has no token {id}");

    /// <summary>The id of <paramref name="token"/> if it is an added token or in the vocabulary.</summary>
    public int? TryGetId(string token) => _added.TryGetValue(token, out var id) || _model.TryGetId(token, out id) ? id : null;
}
