using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.Core.Errors;

namespace SparOrleans.Engine.Text;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>, with the flags HF matches it by.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LStrip, bool RStrip, bool SingleWord, bool Normalized);

/// <summary>A piece of text during encoding: either plain text still to tokenize or an already matched added token.</summary>
internal readonly record struct Segment(string Text, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// Finds added tokens in text as HF's <c>AddedVocabulary</c> does: leftmost-longest, non-overlapping matches, then
/// <c>single_word</c> (skip a match touching a word character), <c>lstrip</c>/<c>rstrip</c> (swallow whitespace beside it).
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0).GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    public void Split(string text, List<Segment> output)
    {
        if (IsEmpty || text.Length == 0)
        {
            if (text.Length > 0)
            {
                output.Add(new Segment(text, -1));
            }
            return;
        }
        var startOffset = 0;
        var i = 0;
        while (i < text.Length)
        {
            var token = LongestAt(text, i);
            if (token is null)
            {
                i++;
                continue;
            }
            var start = i;
            var stop = i + token.Content.Length;
            // The scan resumes after the raw match whether or not the match is kept, as aho-corasick's iterator does.
            i = stop;
            if (token.SingleWord && ((start > 0 && IsWordChar(text, start - 1, before: true)) || (stop < text.Length && IsWordChar(text, stop, before: false))))
            {
                continue;
            }
            if (token.LStrip)
            {
                var s = start;
                while (s > startOffset && char.IsWhiteSpace(text[s - 1]))
                {
                    s--;
                }
                start = s;
            }
            if (token.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop]))
                {
                    stop++;
                }
                i = Math.Max(i, stop);
            }
            if (start > startOffset)
            {
                output.Add(new Segment(text[startOffset..start], -1));
            }
            output.Add(new Segment(text[start..stop], token.Id));
            startOffset = stop;
        }
        if (startOffset < text.Length)
        {
            output.Add(new Segment(text[startOffset..], -1));
        }
    }

    private AddedToken? LongestAt(string text, int at)
    {
        if (!_byFirstChar.TryGetValue(text[at], out var candidates))
        {
            return null;
        }
        foreach (var t in candidates)
        {
            if (at + t.Content.Length <= text.Length && string.CompareOrdinal(text, at, t.Content, 0, t.Content.Length) == 0)
            {
                return t;
            }
        }
        return null;
    }

    private static bool IsWordChar(string text, int index, bool before)
    {
        var c = text[index];
        if (before && char.IsLowSurrogate(c) && index > 0)
        {
            return char.IsLetterOrDigit(text, index - 1);
        }
        return c == '_' || char.IsLetterOrDigit(text, index);
    }
}

/// <summary>tokenizer.json's <c>normalizer</c>: the supported ones, anything else refused by name.</summary>
internal abstract class Normalizer
{
    public abstract string Apply(string text);

    public static Normalizer? Parse(JsonNode? node, string source)
    {
        if (node is not JsonObject o)
        {
            return null;
        }
        var type = o["type"]?.GetValue<string>();
        return type switch
        {
            "Sequence" => new SequenceNormalizer([.. (o["normalizers"] as JsonArray ?? []).Select(n => Parse(n, source)!).Where(n => n is not null)]),
            "NFC" => new FormNormalizer(NormalizationForm.FormC),
            "NFD" => new FormNormalizer(NormalizationForm.FormD),
            "NFKC" => new FormNormalizer(NormalizationForm.FormKC),
            "NFKD" => new FormNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new FuncNormalizer(s => s.ToLowerInvariant()),
            "Prepend" => new PrependNormalizer(o["prepend"]!.GetValue<string>()),
            "Replace" => new ReplaceNormalizer(Pattern.Parse(o["pattern"], source, "Replace normalizer"), o["content"]!.GetValue<string>()),
            "Strip" => new FuncNormalizer(Strip(o["strip_left"]?.GetValue<bool>() ?? true, o["strip_right"]?.GetValue<bool>() ?? true)),
            _ => throw new UserInputException($"{source}: normalizer type '{type}' is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip)"),
        };
    }

    private static Func<string, string> Strip(bool left, bool right) => s => (left, right) switch
    {
        (true, true) => s.Trim(),
        (true, false) => s.TrimStart(),
        (false, true) => s.TrimEnd(),
        _ => s,
    };

    private sealed class SequenceNormalizer(Normalizer[] parts) : Normalizer
    {
        public override string Apply(string text) => parts.Aggregate(text, (t, n) => n.Apply(t));
    }

    private sealed class FormNormalizer(NormalizationForm form) : Normalizer
    {
        public override string Apply(string text) => UnicodeNormalizer.Normalize(text, form);
    }

    private sealed class FuncNormalizer(Func<string, string> f) : Normalizer
    {
        public override string Apply(string text) => f(text);
    }

    // HF prepends only to non-empty text, per piece left between added tokens.
    private sealed class PrependNormalizer(string prefix) : Normalizer
    {
        public override string Apply(string text) => text.Length == 0 ? text : prefix + text;
    }

    private sealed class ReplaceNormalizer(Regex pattern, string content) : Normalizer
    {
        public override string Apply(string text) => pattern.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal));
    }
}

/// <summary>The <c>{"String": ...}</c> or <c>{"Regex": ...}</c> patterns of Split, Replace and their decoders.</summary>
internal static class Pattern
{
    public static Regex Parse(JsonNode? node, string source, string where)
    {
        if (node?["String"] is { } s)
        {
            return new Regex(Regex.Escape(s.GetValue<string>()), RegexOptions.CultureInvariant);
        }
        if (node?["Regex"] is { } r)
        {
            try
            {
                return new Regex(r.GetValue<string>(), RegexOptions.CultureInvariant | RegexOptions.Compiled);
            }
            catch (ArgumentException e)
            {
                throw new UserInputException($"{source}: {where} regex is not supported by .NET ({e.Message})");
            }
        }
        throw new UserInputException($"{source}: {where} has no String or Regex pattern");
    }
}

/// <summary>tokenizer.json's <c>pre_tokenizer</c>: splits normalized text into the words BPE sees, each mapped as the file says.</summary>
internal abstract class PreTokenizer
{
    /// <summary>Splits each piece further. <paramref name="first"/> says whether a piece starts the original text.</summary>
    public abstract List<(string Text, bool First)> Split(List<(string Text, bool First)> pieces);

    public static PreTokenizer? Parse(JsonNode? node, string source)
    {
        if (node is not JsonObject o)
        {
            return null;
        }
        var type = o["type"]?.GetValue<string>();
        switch (type)
        {
            case "Sequence":
                return new SequencePreTokenizer([.. (o["pretokenizers"] as JsonArray ?? []).Select(p => Parse(p, source)!).Where(p => p is not null)]);
            case "Split":
                var behavior = o["behavior"]?.GetValue<string>() ?? "Isolated";
                if (o["invert"]?.GetValue<bool>() == true)
                {
                    throw new UserInputException($"{source}: Split pre-tokenizer with invert=true is not supported");
                }
                if (behavior is not ("Isolated" or "Removed" or "MergedWithPrevious" or "MergedWithNext"))
                {
                    throw new UserInputException($"{source}: Split pre-tokenizer behavior '{behavior}' is not supported");
                }
                return new SplitPreTokenizer(Pattern.Parse(o["pattern"], source, "Split pre-tokenizer"), behavior);
            case "ByteLevel":
                return new ByteLevelPreTokenizer(o["add_prefix_space"]?.GetValue<bool>() ?? true, o["use_regex"]?.GetValue<bool>() ?? true);
            case "Metaspace":
                var replacement = o["replacement"]?.GetValue<string>() ?? "▁";
                var scheme = o["prepend_scheme"]?.GetValue<string>()
                    ?? ((o["add_prefix_space"]?.GetValue<bool>() ?? true) ? "always" : "never");
                return new MetaspacePreTokenizer(replacement, scheme, o["split"]?.GetValue<bool>() ?? true);
            case "Digits":
                return new SplitPreTokenizer(new Regex(o["individual_digits"]?.GetValue<bool>() == true ? @"\p{Nd}" : @"\p{Nd}+", RegexOptions.CultureInvariant), "Isolated");
            default:
                throw new UserInputException($"{source}: pre-tokenizer type '{type}' is not supported (supported: Sequence, Split, ByteLevel, Metaspace, Digits)");
        }
    }

    /// <summary>HF splits with Oniguruma over code points; .NET sees UTF-16, where an astral letter is two surrogates.
    /// Matching on a copy where each astral letter/number is two BMP stand-ins of its class keeps indices aligned.</summary>
    internal static string ForRegex(string text)
    {
        var astral = false;
        foreach (var c in text)
        {
            if (char.IsHighSurrogate(c))
            {
                astral = true;
                break;
            }
        }
        if (!astral)
        {
            return text;
        }
        var chars = text.ToCharArray();
        for (var i = 0; i + 1 < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && char.IsLowSurrogate(chars[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(text, i);
                var standIn = category switch
                {
                    UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                        or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => '\u4E00',
                    UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '\u0660',
                    _ => '\0',
                };
                if (standIn != '\0')
                {
                    chars[i] = chars[i + 1] = standIn;
                }
                i++;
            }
        }
        return new string(chars);
    }

    internal static List<string> SplitIsolated(Regex regex, string text, string behavior)
    {
        var result = new List<string>();
        var last = 0;
        var pendingPrefix = "";
        foreach (Match m in regex.Matches(ForRegex(text)))
        {
            if (m.Length == 0)
            {
                continue;
            }
            var gap = text[last..m.Index];
            var match = text.Substring(m.Index, m.Length);
            switch (behavior)
            {
                case "Isolated":
                    Add(gap);
                    Add(match);
                    break;
                case "Removed":
                    Add(gap);
                    break;
                case "MergedWithPrevious":
                    Add(gap + match);
                    break;
                case "MergedWithNext":
                    Add(pendingPrefix + gap);
                    pendingPrefix = match;
                    break;
            }
            last = m.Index + m.Length;
        }
        Add(pendingPrefix + text[last..]);
        return result;

        void Add(string s)
        {
            if (s.Length > 0)
            {
                result.Add(s);
            }
        }
    }

    private sealed class SequencePreTokenizer(PreTokenizer[] parts) : PreTokenizer
    {
        public override List<(string Text, bool First)> Split(List<(string Text, bool First)> pieces) =>
            parts.Aggregate(pieces, (p, t) => t.Split(p));
    }

    private sealed class SplitPreTokenizer(Regex regex, string behavior) : PreTokenizer
    {
        public override List<(string Text, bool First)> Split(List<(string Text, bool First)> pieces)
        {
            var result = new List<(string, bool)>();
            foreach (var (text, first) in pieces)
            {
                var parts = SplitIsolated(regex, text, behavior);
                for (var i = 0; i < parts.Count; i++)
                {
                    result.Add((parts[i], first && i == 0));
                }
            }
            return result;
        }
    }

    private sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
    {
        private static readonly Regex Gpt2 = new(SubwordTrainer.SplitPattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        private static readonly char[] Alphabet = SubwordTrainer.ByteLevelAlphabet();

        public override List<(string Text, bool First)> Split(List<(string Text, bool First)> pieces)
        {
            var result = new List<(string, bool)>();
            foreach (var (raw, first) in pieces)
            {
                var text = addPrefixSpace && !raw.StartsWith(' ') ? " " + raw : raw;
                var parts = useRegex ? SplitIsolated(Gpt2, text, "Isolated") : [text];
                for (var i = 0; i < parts.Count; i++)
                {
                    result.Add((ToByteLevel(parts[i]), first && i == 0));
                }
            }
            return result;
        }

        internal static string ToByteLevel(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var chars = new char[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = Alphabet[bytes[i]];
            }
            return new string(chars);
        }
    }

    private sealed class MetaspacePreTokenizer(string replacement, string scheme, bool split) : PreTokenizer
    {
        private readonly Regex _at = new(Regex.Escape(replacement), RegexOptions.CultureInvariant);

        public override List<(string Text, bool First)> Split(List<(string Text, bool First)> pieces)
        {
            var result = new List<(string, bool)>();
            foreach (var (raw, first) in pieces)
            {
                var text = raw.Replace(" ", replacement, StringComparison.Ordinal);
                var prepend = scheme switch
                {
                    "always" => true,
                    "first" => first,
                    _ => false,
                };
                if (prepend && !text.StartsWith(replacement, StringComparison.Ordinal))
                {
                    text = replacement + text;
                }
                var parts = split ? SplitIsolated(_at, text, "MergedWithNext") : [text];
                for (var i = 0; i < parts.Count; i++)
                {
                    result.Add((parts[i], first && i == 0));
                }
            }
            return result;
        }
    }
}

/// <summary>tokenizer.json's <c>decoder</c>: turns token strings back into text.</summary>
internal abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public static Decoder? Parse(JsonNode? node, string source)
    {
        if (node is not JsonObject o)
        {
            return null;
        }
        var type = o["type"]?.GetValue<string>();
        return type switch
        {
            "Sequence" => new SequenceDecoder([.. (o["decoders"] as JsonArray ?? []).Select(d => Parse(d, source)!).Where(d => d is not null)]),
            "ByteLevel" => new ByteLevelDecoder(),
            "Replace" => new ReplaceDecoder(Pattern.Parse(o["pattern"], source, "Replace decoder"), o["content"]!.GetValue<string>()),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(o["content"]!.GetValue<string>()[0], o["start"]?.GetValue<int>() ?? 0, o["stop"]?.GetValue<int>() ?? 0),
            "Metaspace" => new MetaspaceDecoder(o["replacement"]?.GetValue<string>() ?? "▁",
                (o["prepend_scheme"]?.GetValue<string>() ?? ((o["add_prefix_space"]?.GetValue<bool>() ?? true) ? "always" : "never")) != "never"),
            _ => throw new UserInputException($"{source}: decoder type '{type}' is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)"),
        };
    }

    private sealed class SequenceDecoder(Decoder[] parts) : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens) => parts.Aggregate(tokens, (t, d) => d.DecodeChain(t));
    }

    private sealed class ByteLevelDecoder : Decoder
    {
        private static readonly Dictionary<char, byte> Bytes = SubwordTrainer.ByteLevelAlphabet().Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);

        public override List<string> DecodeChain(List<string> tokens)
        {
            var bytes = new List<byte>();
            foreach (var t in tokens)
            {
                // A token outside the byte alphabet (an added token such as "<think>" written with other characters) keeps its own UTF-8, as HF does.
                if (t.All(Bytes.ContainsKey))
                {
                    bytes.AddRange(t.Select(c => Bytes[c]));
                }
                else
                {
                    bytes.AddRange(Encoding.UTF8.GetBytes(t));
                }
            }
            return [Encoding.UTF8.GetString(bytes.ToArray())];
        }
    }

    private sealed class ReplaceDecoder(Regex pattern, string content) : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens) =>
            [.. tokens.Select(t => pattern.Replace(t, content.Replace("$", "$$", StringComparison.Ordinal)))];
    }

    private sealed class ByteFallbackDecoder : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>();
            var pending = new List<byte>();
            foreach (var t in tokens)
            {
                if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
                    && byte.TryParse(t.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    pending.Add(b);
                    continue;
                }
                Flush();
                result.Add(t);
            }
            Flush();
            return result;

            void Flush()
            {
                if (pending.Count == 0)
                {
                    return;
                }
                var bytes = pending.ToArray();
                pending.Clear();
                try
                {
                    result.Add(new UTF8Encoding(false, true).GetString(bytes));
                }
                catch (DecoderFallbackException)
                {
                    // HF writes one replacement character per byte of an invalid sequence.
                    result.AddRange(Enumerable.Repeat("\uFFFD", bytes.Length));
                }
            }
        }
    }

    private sealed class FuseDecoder : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
    }

    private sealed class StripDecoder(char content, int start, int stop) : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [.. tokens.Select(t =>
        {
            var s = 0;
            while (s < start && s < t.Length && t[s] == content)
            {
                s++;
            }
            var e = t.Length;
            while (t.Length - e < stop && e > s && t[e - 1] == content)
            {
                e--;
            }
            return t[s..e];
        })];
    }

    private sealed class MetaspaceDecoder(string replacement, bool stripFirst) : Decoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [.. tokens.Select((t, i) =>
        {
            var s = t.Replace(replacement, " ", StringComparison.Ordinal);
            return i == 0 && stripFirst && s.StartsWith(' ') ? s[1..] : s;
        })];
    }
}

/// <summary>
/// tokenizer.json's BPE model: merges applied lowest rank first, <c>ignore_merges</c> (whole words in the vocabulary
/// win), <c>byte_fallback</c> (<c>&lt;0xAB&gt;</c> tokens for characters outside the vocabulary) and <c>unk_token</c>
/// with <c>fuse_unk</c>.
/// </summary>
internal sealed class BpeModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(int, int), (int Rank, int Id)> _merges;
    private readonly bool _ignoreMerges;
    private readonly bool _byteFallback;
    private readonly bool _fuseUnk;
    private readonly int _unkId;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new();

    public BpeModel(JsonObject model, string source)
    {
        var type = model["type"]?.GetValue<string>();
        if (type != "BPE")
        {
            throw new UserInputException($"{source}: tokenizer model type '{type}' is not supported (only BPE)");
        }
        if (model["vocab"] is not JsonObject vocab)
        {
            throw new UserInputException($"{source}: BPE model has no vocab");
        }
        if (model["dropout"] is JsonValue d && d.GetValue<double>() > 0)
        {
            throw new UserInputException($"{source}: BPE dropout is not supported");
        }
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model[key] is JsonValue v && v.GetValue<string>().Length > 0)
            {
                throw new UserInputException($"{source}: BPE {key} '{v.GetValue<string>()}' is not supported");
            }
        }
        _vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in vocab)
        {
            _vocab[k] = v!.GetValue<int>();
        }
        IdToToken = new Dictionary<int, string>();
        foreach (var (k, v) in _vocab)
        {
            IdToToken[v] = k;
        }
        _merges = [];
        var rank = 0;
        foreach (var m in model["merges"] as JsonArray ?? [])
        {
            string left, right;
            if (m is JsonArray pair)
            {
                (left, right) = (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>());
            }
            else
            {
                var s = m!.GetValue<string>();
                var space = s.IndexOf(' ', 1);
                if (space < 0)
                {
                    throw new UserInputException($"{source}: merge '{s}' is not two tokens");
                }
                (left, right) = (s[..space], s[(space + 1)..]);
            }
            if (_vocab.TryGetValue(left, out var a) && _vocab.TryGetValue(right, out var b) && _vocab.TryGetValue(left + right, out var merged))
            {
                _merges.TryAdd((a, b), (rank, merged));
            }
            else
            {
                throw new UserInputException($"{source}: merge '{left} {right}' uses tokens missing from the vocabulary");
            }
            rank++;
        }
        _ignoreMerges = model["ignore_merges"]?.GetValue<bool>() ?? false;
        _byteFallback = model["byte_fallback"]?.GetValue<bool>() ?? false;
        _fuseUnk = model["fuse_unk"]?.GetValue<bool>() ?? false;
        var unk = model["unk_token"]?.GetValue<string>();
        _unkId = unk is not null && _vocab.TryGetValue(unk, out var u) ? u : -1;
        MaxId = _vocab.Count == 0 ? -1 : _vocab.Values.Max();
    }

    public Dictionary<int, string> IdToToken { get; }

    public int MaxId { get; }

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public void Tokenize(string word, List<int> output)
    {
        lock (_cacheLock)
        {
            if (_cache.TryGetValue(word, out var cached))
            {
                output.AddRange(cached);
                return;
            }
        }
        var ids = TokenizeUncached(word);
        lock (_cacheLock)
        {
            // Long "words" (whole SentencePiece segments) rarely repeat; caching them would only hold memory.
            if (_cache.Count < 100_000 && word.Length <= 256)
            {
                _cache[word] = ids;
            }
        }
        output.AddRange(ids);
    }

    private int[] TokenizeUncached(string word)
    {
        if (_ignoreMerges && _vocab.TryGetValue(word, out var whole))
        {
            return [whole];
        }
        var symbols = new List<int>();
        var lastWasUnk = false;
        for (var i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1)
        {
            var ch = char.IsSurrogatePair(word, i) ? word.Substring(i, 2) : word[i].ToString();
            if (_vocab.TryGetValue(ch, out var id))
            {
                symbols.Add(id);
                lastWasUnk = false;
                continue;
            }
            if (_byteFallback)
            {
                var bytes = Encoding.UTF8.GetBytes(ch);
                var byteIds = new List<int>();
                foreach (var b in bytes)
                {
                    if (_vocab.TryGetValue($"<0x{b:X2}>", out var bid))
                    {
                        byteIds.Add(bid);
                    }
                }
                if (byteIds.Count == bytes.Length)
                {
                    symbols.AddRange(byteIds);
                    lastWasUnk = false;
                    continue;
                }
            }
            if (_unkId >= 0)
            {
                if (!(_fuseUnk && lastWasUnk))
                {
                    symbols.Add(_unkId);
                }
                lastWasUnk = true;
            }
        }
        return [.. Merge(symbols)];
    }

    // Lowest-rank pair first, leftmost among equals, as HF's Word::merge_all: a queue of candidate pairs over a linked
    // list of symbols keeps it O(n log n). SentencePiece-style files have no pre-tokenizer, so a "word" is a whole
    // text between added tokens, and rescanning every pair per merge took 5 s for 20,000 characters.
    private List<int> Merge(List<int> symbols)
    {
        var n = symbols.Count;
        if (n < 2)
        {
            return symbols;
        }
        var ids = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            (next[i], prev[i], alive[i]) = (i + 1 < n ? i + 1 : -1, i - 1, true);
        }
        var queue = new PriorityQueue<int, (int Rank, int Pos)>();
        for (var i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue((ids[i], ids[i + 1]), out var m))
            {
                queue.Enqueue(i, (m.Rank, i));
            }
        }
        while (queue.TryDequeue(out var pos, out var key))
        {
            var right = next[pos];
            // A queued pair is stale once either side has merged into something else.
            if (!alive[pos] || right < 0 || !_merges.TryGetValue((ids[pos], ids[right]), out var m) || m.Rank != key.Rank)
            {
                continue;
            }
            ids[pos] = m.Id;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0)
            {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0 && _merges.TryGetValue((ids[prev[pos]], ids[pos]), out var left))
            {
                queue.Enqueue(prev[pos], (left.Rank, prev[pos]));
            }
            if (next[pos] >= 0 && _merges.TryGetValue((ids[pos], ids[next[pos]]), out var after))
            {
                queue.Enqueue(pos, (after.Rank, pos));
            }
        }
        var result = new List<int>();
        for (var i = 0; i >= 0; i = next[i])
        {
            result.Add(ids[i]);
        }
        return result;
    }
}
