using System.Text.RegularExpressions;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// C# port of NLTK's <c>PunktSentenceTokenizer</c> (nltk 3.8 algorithm: period contexts, first- and second-pass
/// annotation, boundary realignment) as used by IFEval's <c>count_sentences</c>. The trained English parameters
/// (nltk_data <c>punkt/english.pickle</c>) are not available here, so the abbreviation list and the orthographic
/// context are a hand-made approximation (see verifiers/README.md). Thread-safe and allocation-light.
/// </summary>
public static partial class PunktSentenceTokenizer
{
    private const string NonWord = @"(?:[)"";}\]\*:@'\({\[?!])";
    private const string MultiChar = @"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)";
    private const string WordStart = @"[^\(""`{\[:;&\#\*@\)}\]\-,]";

    [GeneratedRegex(@"[\.\?!](?=(?<after_tok>" + NonWord + @"|\s+(?<next_tok>\S+)))")]
    private static partial Regex PeriodContextRegex();

    [GeneratedRegex("(" + MultiChar + "|(?=" + WordStart + @")\S+?(?=\s|$|" + NonWord + "|" + MultiChar + @"|,(?=$|\s|" +
                    NonWord + "|" + MultiChar + @"))|\S)")]
    private static partial Regex WordTokenizerRegex();

    [GeneratedRegex(@"\A[""')\]}]+?(?:\s+|(?=--)|$)", RegexOptions.Multiline)]
    private static partial Regex BoundaryRealignmentRegex();

    [GeneratedRegex(@"^-?[\.,]?\d[\d,\.-]*\.?$")]
    private static partial Regex NumericRegex();

    [GeneratedRegex(@"^" + PyText.WordNoDigitClass + @"\.$")]
    private static partial Regex InitialRegex();

    [GeneratedRegex(@"^\.\.+$")]
    private static partial Regex EllipsisRegex();

    private static readonly Regex PeriodContext = PeriodContextRegex();
    private static readonly Regex WordTokenizer = WordTokenizerRegex();
    private static readonly Regex BoundaryRealignment = BoundaryRealignmentRegex();
    private static readonly Regex Numeric = NumericRegex();
    private static readonly Regex Initial = InitialRegex();
    private static readonly Regex Ellipsis = EllipsisRegex();

    private const int OrthoBegUc = 1 << 1, OrthoMidUc = 1 << 2, OrthoUnkUc = 1 << 3;
    private const int OrthoBegLc = 1 << 4, OrthoMidLc = 1 << 5, OrthoUnkLc = 1 << 6;
    private const int OrthoUc = OrthoBegUc | OrthoMidUc | OrthoUnkUc;
    private const int OrthoLc = OrthoBegLc | OrthoMidLc | OrthoUnkLc;

    /// <summary>Abbreviation types (lower case, no final period), standing in for the trained English list.</summary>
    internal static readonly HashSet<string> AbbrevTypes = new(StringComparer.Ordinal)
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "e.g", "i.e", "u.s",
        "u.k", "u.n", "a.m", "p.m", "d.c", "n.y", "ph.d", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
        "sept", "oct", "nov", "dec", "gen", "gov", "sen", "rep", "rev", "lt", "col", "capt", "sgt", "mt", "ft",
        "ave", "blvd", "dept", "univ", "assn", "bros", "calif", "fla", "approx", "fig", "vol", "no", "est", "cf",
    };

    // Frequent lower-case words: the trained orthographic context marks them as seen lower-case mid-sentence and
    // upper-case only at sentence starts, which makes a capitalised occurrence after an abbreviation a sentence start.
    internal static readonly HashSet<string> LowercaseWords = new(StringComparer.Ordinal)
    {
        "the", "a", "an", "and", "but", "or", "so", "he", "she", "it", "they", "we", "you", "this", "that", "these",
        "those", "there", "then", "however", "in", "on", "at", "for", "with", "as", "if", "when", "while", "after",
        "before", "his", "her", "its", "their", "our", "my", "your", "what", "which", "who", "how", "why", "where",
        "thus", "also", "many", "some", "most", "all", "one", "each", "here", "now", "today", "yes", "not", "to",
        "of", "by", "from", "because", "although", "since", "during", "finally", "first", "next", "other", "such",
        "both", "every", "no", "let", "please", "instead", "still", "yet", "once", "even", "only", "just",
    };

    /// <summary>Number of sentences NLTK's English punkt tokenizer would find (0 for blank text).</summary>
    public static int CountSentences(string text)
    {
        int count = 0;
        foreach (var _ in Spans(text))
        {
            count++;
        }
        return count;
    }

    /// <summary>The sentences of <paramref name="text"/>, as NLTK's <c>sent_tokenize</c> returns them.</summary>
    public static List<string> Tokenize(string text)
    {
        var sentences = new List<string>();
        foreach (var (start, end) in Spans(text))
        {
            sentences.Add(text[start..end]);
        }
        return sentences;
    }

    private static IEnumerable<(int Start, int End)> Spans(string text)
    {
        // _realign_boundaries over _slices_from_text: a closing quote or bracket after a break moves into the
        // sentence it closes; empty slices are dropped.
        int realign = 0;
        (int Start, int End)? pending = null;
        foreach (var next in Slices(text))
        {
            if (pending is { } s1)
            {
                var sentence1 = (Start: s1.Start + realign, s1.End);
                var m = next.End > next.Start ? BoundaryRealignment.Match(text[next.Start..next.End]) : Match.Empty;
                if (m.Success)
                {
                    yield return (sentence1.Start, next.Start + PyText.RStrip(m.Value).Length);
                    realign = m.Length;
                }
                else
                {
                    realign = 0;
                    if (sentence1.End > sentence1.Start)
                    {
                        yield return sentence1;
                    }
                }
            }
            pending = next;
        }
        if (pending is { } last)
        {
            var sentence1 = (Start: last.Start + realign, last.End);
            if (sentence1.End > sentence1.Start)
            {
                yield return sentence1;
            }
        }
    }

    private static IEnumerable<(int Start, int End)> Slices(string text)
    {
        int lastBreak = 0;
        foreach (var (match, context) in PotentialEndContexts(text))
        {
            if (ContainsSentBreak(context))
            {
                yield return (lastBreak, match.Index + match.Length);
                var nextTok = match.Groups["next_tok"];
                lastBreak = nextTok.Success && nextTok.Length > 0 ? nextTok.Index : match.Index + match.Length;
            }
        }
        yield return (lastBreak, PyText.RStrip(text).Length);
    }

    private static IEnumerable<(Match Match, string Context)> PotentialEndContexts(string text)
    {
        int prevStart = 0, prevStop = 0;
        Match? previous = null;
        for (var m = PeriodContext.Match(text); m.Success; m = m.NextMatch())
        {
            int lastSpace = LastAsciiWhitespaceIndex(text, prevStop, m.Index);
            int start = lastSpace != 0 ? lastSpace + prevStop + 1 : prevStart;
            if (previous is not null && prevStop <= start)
            {
                yield return (previous, Context(text, prevStart, prevStop, previous));
            }
            previous = m;
            prevStart = start;
            prevStop = m.Index;
        }
        if (previous is not null)
        {
            yield return (previous, Context(text, prevStart, prevStop, previous));
        }
    }

    private static string Context(string text, int start, int stop, Match m) =>
        string.Concat(text.AsSpan(start, stop - start), m.Value, m.Groups["after_tok"].Value);

    // Index relative to `from` of the last ASCII white space in text[from..to], 0 when none (as NLTK, which cannot
    // tell "none" from "at 0").
    private static int LastAsciiWhitespaceIndex(string text, int from, int to)
    {
        for (int i = to - 1; i >= from; i--)
        {
            if (text[i] is ' ' or '\t' or '\n' or '\r' or '\v' or '\f')
            {
                return i - from;
            }
        }
        return 0;
    }

    private sealed class Token(string tok)
    {
        public readonly string Tok = tok;
        public readonly string Type = Numeric.Replace(PyText.Lower(tok), "##number##");
        public bool SentBreak;
        public bool Abbr;
        public bool IsEllipsis;

        public bool PeriodFinal => Tok.EndsWith('.');

        public string TypeNoPeriod => Type.Length > 1 && Type[^1] == '.' ? Type[..^1] : Type;

        public string TypeNoSentPeriod => SentBreak ? TypeNoPeriod : Type;
    }

    private static bool ContainsSentBreak(string context)
    {
        var tokens = new List<Token>();
        foreach (var line in context.Split('\n'))
        {
            if (PyText.IsBlank(line))
            {
                continue;
            }
            for (var m = WordTokenizer.Match(line); m.Success; m = m.NextMatch())
            {
                tokens.Add(new Token(m.Groups[1].Value));
            }
        }
        foreach (var t in tokens)
        {
            FirstPass(t);
        }
        bool found = false;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (i + 1 < tokens.Count)
            {
                SecondPass(tokens[i], tokens[i + 1]);
            }
            if (found)
            {
                return true;
            }
            if (tokens[i].SentBreak)
            {
                found = true;
            }
        }
        return false;
    }

    private static void FirstPass(Token t)
    {
        var tok = t.Tok;
        if (tok is "." or "?" or "!")
        {
            t.SentBreak = true;
        }
        else if (Ellipsis.IsMatch(tok))
        {
            t.IsEllipsis = true;
        }
        else if (t.PeriodFinal && !tok.EndsWith("..", StringComparison.Ordinal))
        {
            var stem = PyText.Lower(tok[..^1]);
            var lastPart = stem[(stem.LastIndexOf('-') + 1)..];
            if (AbbrevTypes.Contains(stem) || AbbrevTypes.Contains(lastPart))
            {
                t.Abbr = true;
            }
            else
            {
                t.SentBreak = true;
            }
        }
    }

    private static void SecondPass(Token t1, Token t2)
    {
        if (!t1.PeriodFinal)
        {
            return;
        }
        var typ = t1.TypeNoPeriod;
        var nextTyp = t2.TypeNoSentPeriod;
        bool isInitial = Initial.IsMatch(t1.Tok);

        // No collocations or frequent-sentence-starter list: both are folded into the orthographic approximation.
        if ((t1.Abbr || t1.IsEllipsis) && !isInitial)
        {
            if (OrthoHeuristic(t2) == true)
            {
                t1.SentBreak = true;
                return;
            }
        }
        if (isInitial || typ == "##number##")
        {
            var isStarter = OrthoHeuristic(t2);
            if (isStarter == false)
            {
                t1.SentBreak = false;
                t1.Abbr = true;
                return;
            }
            if (isStarter is null && isInitial && PyText.FirstIsUpper(t2.Tok) && (OrthoContext(nextTyp) & OrthoLc) == 0)
            {
                t1.SentBreak = false;
                t1.Abbr = true;
            }
        }
    }

    // true / false / null ("unknown"), as NLTK's _ortho_heuristic.
    private static bool? OrthoHeuristic(Token t)
    {
        if (t.Tok is ";" or ":" or "," or "." or "!" or "?")
        {
            return false;
        }
        int ortho = OrthoContext(t.TypeNoSentPeriod);
        if (PyText.FirstIsUpper(t.Tok) && (ortho & OrthoLc) != 0 && (ortho & OrthoMidUc) == 0)
        {
            return true;
        }
        if (PyText.FirstIsLower(t.Tok) && ((ortho & OrthoUc) != 0 || (ortho & OrthoBegLc) == 0))
        {
            return false;
        }
        return null;
    }

    private static int OrthoContext(string type) => LowercaseWords.Contains(type) ? OrthoBegUc | OrthoMidLc : 0;
}
