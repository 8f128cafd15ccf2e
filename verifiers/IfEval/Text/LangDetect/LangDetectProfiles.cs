using System.IO.Compression;
using System.Text.Json;

namespace SparOrleans.Verifiers.IfEval.Text.LangDetect;

/// <summary>
/// langdetect 1.0.9's 55 n-gram profiles and normalisation tables, read once from the embedded
/// <c>langdetect-profiles.json.gz</c> (written by make_profiles.py from Debian's python3-langdetect). Immutable after
/// loading, so shared by all threads.
/// </summary>
internal sealed class LangDetectProfiles
{
    public const string ResourceName = "langdetect-profiles.json.gz";
    private const int CjkFirst = 0x4E00;
    private const int CjkLast = 0x9FFF;

    private static readonly Lazy<LangDetectProfiles> LazyInstance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static LangDetectProfiles Instance => LazyInstance.Value;

    /// <summary>Languages in the order of the Python run (DetectorFactory.langlist).</summary>
    public required string[] Langs { get; init; }

    /// <summary>N-gram key (see <see cref="Key"/>) → row in <see cref="Probs"/>.</summary>
    public required Dictionary<long, int> GramRows { get; init; }

    /// <summary>Row-major word_lang_prob_map: <c>Probs[row * Langs.Length + lang]</c>.</summary>
    public required double[] Probs { get; init; }

    public required string Latin1Exclude { get; init; }
    public required string ToNormalizeVi { get; init; }
    public required string DmarkClass { get; init; }
    public required string[] NormalizedVi { get; init; }

    /// <summary>NGram.CJK_MAP over U+4E00..U+9FFF (the only block it is consulted for).</summary>
    public required char[] CjkMap { get; init; }

    public int CjkRepresentative(int cp) => CjkMap[cp - CjkFirst];

    /// <summary>An n-gram of 1–3 code points as one number: 21 bits per code point + 1, so lengths never collide.</summary>
    public static long Key(long key, int cp) => (key << 21) | (uint)(cp + 1);

    private static LangDetectProfiles Load()
    {
        using var stream = typeof(LangDetectProfiles).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gzip);
        var root = doc.RootElement;

        var langs = root.GetProperty("langs").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var nWords = root.GetProperty("nWords").EnumerateArray()
            .Select(e => e.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        var grams = root.GetProperty("grams");
        int langCount = langs.Length;
        var rows = new Dictionary<long, int>();
        var probs = new List<double>();
        foreach (var gram in grams.EnumerateObject())
        {
            var cps = CodePoints(gram.Name);
            // DetectorFactory.add_profile creates the row for any word but fills it only for lengths 1–3; profiles
            // hold nothing longer, and a longer key could never be looked up anyway.
            if (cps.Count is < 1 or > 3)
            {
                continue;
            }
            long key = 0;
            foreach (var cp in cps)
            {
                key = Key(key, cp);
            }
            int row = rows.Count;
            rows.Add(key, row);
            for (int l = 0; l < langCount; l++)
            {
                probs.Add(0.0);
            }
            var pairs = gram.Value;
            for (int i = 0; i + 1 < pairs.GetArrayLength(); i += 2)
            {
                int lang = pairs[i].GetInt32();
                long count = pairs[i + 1].GetInt64();
                // Python: 1.0 * freq / n_words[len - 1], i.e. float(freq) / float(n_words).
                probs[row * langCount + lang] = (double)count / nWords[lang][cps.Count - 1];
            }
        }

        var cjk = new char[CjkLast - CjkFirst + 1];
        for (int cp = CjkFirst; cp <= CjkLast; cp++)
        {
            cjk[cp - CjkFirst] = (char)cp;
        }
        // Later classes overwrite earlier ones, as NGram._init_cjk_map's dict assignments do.
        foreach (var cls in root.GetProperty("cjkClasses").EnumerateArray())
        {
            var s = cls.GetString()!;
            foreach (var ch in s)
            {
                cjk[ch - CjkFirst] = s[0];
            }
        }

        return new LangDetectProfiles
        {
            Langs = langs,
            GramRows = rows,
            Probs = [.. probs],
            Latin1Exclude = root.GetProperty("latin1Exclude").GetString()!,
            ToNormalizeVi = root.GetProperty("toNormalizeVi").GetString()!,
            DmarkClass = root.GetProperty("dmarkClass").GetString()!,
            NormalizedVi = root.GetProperty("normalizedVi").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            CjkMap = cjk,
        };
    }

    /// <summary>Python's view of a str: code points, with a lone surrogate standing for itself.</summary>
    public static List<int> CodePoints(string s)
    {
        var result = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(char.ConvertToUtf32(c, s[i + 1]));
                i++;
            }
            else
            {
                result.Add(c);
            }
        }
        return result;
    }
}
