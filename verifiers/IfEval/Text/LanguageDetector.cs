using System.Text;
using System.Text.RegularExpressions;
using SparOrleans.Verifiers.IfEval.Text.LangDetect;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>A language and its probability, as langdetect's <c>Language</c>.</summary>
public readonly record struct LanguageProbability(string Lang, double Prob);

/// <summary>
/// <c>langdetect.detect</c> (langdetect 1.0.9, Shuyo's language-detection) ported exactly: same 55 profiles, text
/// cleaning, normalisation, n-gram extraction, and CPython's Mersenne Twister for the 7 sampled trials, so with the
/// same seed it returns the same language and bit-identical probabilities. langdetect's default seed is None
/// (different draws per call); IFEval scores are reproducible only with a fixed seed, and this port uses
/// <see cref="DefaultSeed"/> = 0 (<c>DetectorFactory.seed = 0</c>). Returns null where langdetect raises
/// "No features in text", which IFEval counts as a pass. Thread-safe: the profiles are immutable and each call has
/// its own generator.
/// </summary>
public static partial class LanguageDetector
{
    /// <summary>The seed the golden data and the IFEval scores use: <c>DetectorFactory.seed = 0</c>.</summary>
    public const int DefaultSeed = 0;

    /// <summary>langdetect's answer when no language passes <see cref="ProbThreshold"/>.</summary>
    public const string Unknown = "unknown";

    private const double AlphaDefault = 0.5;
    private const double AlphaWidth = 0.05;
    private const int IterationLimit = 1000;
    private const double ProbThreshold = 0.1;
    private const double ConvThreshold = 0.99999;
    private const int BaseFreq = 10000;
    private const int NTrial = 7;
    private const int MaxTextLength = 10000;

    [GeneratedRegex(@"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}", RegexOptions.CultureInvariant)]
    private static partial Regex UrlRegex();

    [GeneratedRegex(@"[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}", RegexOptions.CultureInvariant)]
    private static partial Regex MailRegex();

    /// <summary>
    /// <c>detect(text)</c>: the most probable language (langdetect's codes: <c>zh-cn</c>, <c>zh-tw</c>...), 
    /// <see cref="Unknown"/> when none is above 0.1, or null when the text has no n-gram langdetect knows.
    /// </summary>
    public static string? Detect(string text, int seed = DefaultSeed)
    {
        var probs = GetProbabilities(text, seed);
        return probs is null ? null : probs.Count > 0 ? probs[0].Lang : Unknown;
    }

    /// <summary><c>detect_langs(text)</c>: languages above 0.1, most probable first; null for "No features in text".</summary>
    public static IReadOnlyList<LanguageProbability>? GetProbabilities(string text, int seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        var profiles = LangDetectProfiles.Instance;
        var cps = Append(text, profiles);
        cps = CleaningText(cps);
        var ngrams = ExtractNgrams(cps, profiles);
        if (ngrams.Count == 0)
        {
            return null;
        }

        int langCount = profiles.Langs.Length;
        var langprob = new double[langCount];
        var prob = new double[langCount];
        var table = profiles.Probs;
        var random = new PythonRandom((uint)seed);
        for (int t = 0; t < NTrial; t++)
        {
            Array.Fill(prob, 1.0 / langCount);
            double alpha = AlphaDefault + random.Gauss(0.0, 1.0) * AlphaWidth;
            double weight = alpha / BaseFreq;
            for (int i = 0; ; i++)
            {
                int row = ngrams[random.Below(ngrams.Count)] * langCount;
                for (int l = 0; l < langCount; l++)
                {
                    prob[l] *= weight + table[row + l];
                }
                if (i % 5 == 0 && (NormalizeProb(prob) > ConvThreshold || i >= IterationLimit))
                {
                    break;
                }
            }
            for (int l = 0; l < langCount; l++)
            {
                langprob[l] += prob[l] / NTrial;
            }
        }

        var result = new List<LanguageProbability>();
        for (int l = 0; l < langCount; l++)
        {
            if (langprob[l] > ProbThreshold)
            {
                result.Add(new LanguageProbability(profiles.Langs[l], langprob[l]));
            }
        }
        // Python's list.sort(reverse=True) is stable: equal probabilities keep the profile order.
        return [.. result.OrderByDescending(x => x.Prob)];
    }

    private static double NormalizeProb(double[] prob)
    {
        // Python 3.11's sum() of floats: plain left-to-right addition (3.12 compensates; see verifiers/README.md).
        double sum = 0.0;
        foreach (var p in prob)
        {
            sum += p;
        }
        double max = 0.0;
        for (int i = 0; i < prob.Length; i++)
        {
            double p = prob[i] / sum;
            if (max < p)
            {
                max = p;
            }
            prob[i] = p;
        }
        return max;
    }

    /// <summary>Detector.append: drop URLs and e-mail addresses, fold Vietnamese combining marks, cut to 10,000 code
    /// points, squeeze runs of spaces.</summary>
    private static List<int> Append(string text, LangDetectProfiles profiles)
    {
        if (text.Contains("http", StringComparison.Ordinal))
        {
            text = UrlRegex().Replace(text, " ");
        }
        if (text.Contains('@'))
        {
            text = MailRegex().Replace(text, " ");
        }
        text = NormalizeVi(text, profiles);
        var cps = LangDetectProfiles.CodePoints(text);
        var result = new List<int>(Math.Min(cps.Count, MaxTextLength));
        int pre = 0;
        for (int i = 0; i < Math.Min(cps.Count, MaxTextLength); i++)
        {
            int ch = cps[i];
            if (ch != ' ' || pre != ' ')
            {
                result.Add(ch);
            }
            pre = ch;
        }
        return result;
    }

    /// <summary>NGram.normalize_vi: a letter followed by one of five combining marks becomes the precomposed letter.</summary>
    private static string NormalizeVi(string text, LangDetectProfiles profiles)
    {
        StringBuilder? sb = null;
        int copied = 0;
        for (int i = 0; i + 1 < text.Length; i++)
        {
            int dmark = profiles.DmarkClass.IndexOf(text[i + 1], StringComparison.Ordinal);
            if (dmark < 0)
            {
                continue;
            }
            int alphabet = profiles.ToNormalizeVi.IndexOf(text[i], StringComparison.Ordinal);
            if (alphabet < 0)
            {
                continue;
            }
            sb ??= new StringBuilder(text.Length);
            sb.Append(text, copied, i - copied).Append(profiles.NormalizedVi[dmark][alphabet]);
            copied = i + 2;
            i++;
        }
        return sb is null ? text : sb.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>Detector.cleaning_text: in a text mostly in another script, ASCII letters (A..z) are noise.</summary>
    private static List<int> CleaningText(List<int> text)
    {
        int latin = 0, nonLatin = 0;
        foreach (var ch in text)
        {
            if (ch is >= 'A' and <= 'z')
            {
                latin++;
            }
            else if (ch >= 0x300 && ch is not (>= 0x1E00 and <= 0x1EFF))
            {
                nonLatin++;
            }
        }
        if (latin * 2 >= nonLatin)
        {
            return text;
        }
        return text.Where(ch => ch is < 'A' or > 'z').ToList();
    }

    /// <summary>Detector._extract_ngrams with NGram.add_char: the rows of every known 1–3-gram, in text order.</summary>
    private static List<int> ExtractNgrams(List<int> text, LangDetectProfiles profiles)
    {
        var result = new List<int>();
        var rows = profiles.GramRows;
        // NGram.grams: at most 3 code points, starting as " ".
        Span<int> grams = stackalloc int[3];
        int len = 1;
        grams[0] = ' ';
        bool capitalWord = false;
        foreach (var raw in text)
        {
            int ch = Normalize(raw, profiles);
            int last = grams[len - 1];
            if (last == ' ')
            {
                grams[0] = ' ';
                len = 1;
                capitalWord = false;
                if (ch == ' ')
                {
                    continue;
                }
            }
            else if (len >= 3)
            {
                grams[0] = grams[1];
                grams[1] = grams[2];
                len = 2;
            }
            grams[len++] = ch;
            if (IsUpper(ch))
            {
                if (IsUpper(last))
                {
                    capitalWord = true;
                }
            }
            else
            {
                capitalWord = false;
            }

            if (capitalWord)
            {
                continue;
            }
            for (int n = 1; n <= 3 && n <= len; n++)
            {
                if (n == 1 && ch == ' ')
                {
                    continue;
                }
                long key = 0;
                for (int k = len - n; k < len; k++)
                {
                    key = LangDetectProfiles.Key(key, grams[k]);
                }
                if (rows.TryGetValue(key, out int row))
                {
                    result.Add(row);
                }
            }
        }
        return result;
    }

    private static bool IsUpper(int cp) => Rune.IsValid(cp) && PyText.IsUpperRune(new Rune(cp));

    /// <summary>NGram.normalize for one code point (only these Unicode blocks are touched).</summary>
    private static int Normalize(int ch, LangDetectProfiles profiles)
    {
        switch (ch)
        {
            case <= 0x7F:
                return ch is < 'A' or (> 'Z' and < 'a') or > 'z' ? ' ' : ch;
            case <= 0xFF:
                return profiles.Latin1Exclude.Contains((char)ch, StringComparison.Ordinal) ? ' ' : ch;
            case >= 0x180 and <= 0x24F:
                // Romanian comma-below letters are folded into the cedilla forms the profiles were built with.
                return ch switch { 0x219 => 0x15F, 0x21B => 0x163, _ => ch };
            case >= 0x600 and <= 0x6FF:
                return ch == 0x6CC ? 0x64A : ch;
            case >= 0x1E00 and <= 0x1EFF:
                return ch >= 0x1EA0 ? 0x1EC3 : ch;
            case >= 0x2000 and <= 0x206F:
                return ' ';
            case >= 0x3040 and <= 0x309F:
                return 0x3042;
            case >= 0x30A0 and <= 0x30FF:
                return 0x30A2;
            case >= 0x3100 and <= 0x312F or >= 0x31A0 and <= 0x31BF:
                return 0x3105;
            case >= 0x4E00 and <= 0x9FFF:
                return profiles.CjkRepresentative(ch);
            case >= 0xAC00 and <= 0xD7AF:
                return 0xAC00;
            default:
                return ch;
        }
    }
}
