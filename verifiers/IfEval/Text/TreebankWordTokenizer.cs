using System.Text.RegularExpressions;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// C# port of NLTK's <c>word_tokenize</c> (nltk 3.8): punkt sentence split, then the <c>NLTKWordTokenizer</c>
/// (improved Treebank) rules in their original order. IFEval counts its all-capital tokens. The regexes are
/// source-generated: no start-up compilation, and safe to share across threads.
/// </summary>
public static partial class TreebankWordTokenizer
{
    private const RegexOptions Ci = RegexOptions.CultureInvariant;
    private const RegexOptions CiIgnoreCase = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;
    private const string W = PyText.WordClass;

    // Python's \b next to a word character reduces to a one-sided look-around, which keeps the literal prefix
    // searchable (a general \b alternation would be tried at every position).
    private const string NotAfterWord = "(?<!" + W + ")";
    private const string NotBeforeWord = "(?!" + W + ")";

    [GeneratedRegex("([«“‘„]|[`]+)", Ci)] private static partial Regex Start1();
    [GeneratedRegex("^\"", Ci)] private static partial Regex Start2();
    [GeneratedRegex("(``)", Ci)] private static partial Regex Start3();
    [GeneratedRegex(@"([ \(\[{<])(""|'{2})", Ci)] private static partial Regex Start4();
    [GeneratedRegex("(')(?!re|ve|ll|m|t|s|d|n)(" + W + ")" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Start5();

    [GeneratedRegex(@"([^\.])(\.)([\]\)}>""'»”’ ]*)\s*$", Ci)] private static partial Regex Punct1();
    [GeneratedRegex(@"([:,])([^\d])", Ci)] private static partial Regex Punct2();
    [GeneratedRegex(@"([:,])$", Ci)] private static partial Regex Punct3();
    [GeneratedRegex(@"\.{2,}", Ci)] private static partial Regex Punct4();
    [GeneratedRegex(@"[;@#$%&]", Ci)] private static partial Regex Punct5();
    [GeneratedRegex(@"([^\.])(\.)([\]\)}>""']*)\s*$", Ci)] private static partial Regex Punct6();
    [GeneratedRegex(@"[?!]", Ci)] private static partial Regex Punct7();
    [GeneratedRegex(@"([^'])' ", Ci)] private static partial Regex Punct8();
    [GeneratedRegex(@"[*]", Ci)] private static partial Regex Punct9();
    [GeneratedRegex(@"[\]\[\(\)\{\}\<\>]", Ci)] private static partial Regex Parens();
    [GeneratedRegex("--", Ci)] private static partial Regex DoubleDash();

    [GeneratedRegex("([»”’])", Ci)] private static partial Regex End1();
    [GeneratedRegex("''", Ci)] private static partial Regex End2();
    [GeneratedRegex("\"", Ci)] private static partial Regex End3();
    [GeneratedRegex("([^' ])('[sS]|'[mM]|'[dD]|') ", Ci)] private static partial Regex End4();
    [GeneratedRegex("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", Ci)] private static partial Regex End5();

    [GeneratedRegex(NotAfterWord + "(can)(not)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction1();
    [GeneratedRegex(NotAfterWord + "(d)('ye)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction2();
    [GeneratedRegex(NotAfterWord + "(gim)(me)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction3();
    [GeneratedRegex(NotAfterWord + "(gon)(na)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction4();
    [GeneratedRegex(NotAfterWord + "(got)(ta)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction5();
    [GeneratedRegex(NotAfterWord + "(lem)(me)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction6();
    [GeneratedRegex(NotAfterWord + "(more)('n)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction7();
    [GeneratedRegex(NotAfterWord + @"(wan)(na)(?=\s)", CiIgnoreCase)] private static partial Regex Contraction8();
    [GeneratedRegex(" ('t)(is)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction9();
    [GeneratedRegex(" ('t)(was)" + NotBeforeWord, CiIgnoreCase)] private static partial Regex Contraction10();

    private static readonly (Regex Pattern, string Replacement)[] StartingQuotes =
    [
        (Start1(), " $1 "), (Start2(), "``"), (Start3(), " $1 "), (Start4(), "$1 `` "), (Start5(), "$1 $2"),
    ];

    private static readonly (Regex Pattern, string Replacement)[] Punctuation =
    [
        (Punct1(), "$1 $2 $3 "), (Punct2(), " $1 $2"), (Punct3(), " $1 "), (Punct4(), " $0 "), (Punct5(), " $0 "),
        (Punct6(), "$1 $2$3 "), (Punct7(), " $0 "), (Punct8(), "$1 ' "), (Punct9(), " $0 "),
        (Parens(), " $0 "), (DoubleDash(), " -- "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] EndingQuotes =
    [
        (End1(), " $1 "), (End2(), " '' "), (End3(), " '' "), (End4(), "$1 $2 "), (End5(), "$1 $2 "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] Contractions =
    [
        (Contraction1(), " $1 $2 "), (Contraction2(), " $1 $2 "), (Contraction3(), " $1 $2 "), (Contraction4(), " $1 $2 "),
        (Contraction5(), " $1 $2 "), (Contraction6(), " $1 $2 "), (Contraction7(), " $1 $2 "), (Contraction8(), " $1 $2 "),
        (Contraction9(), " $1 $2 "), (Contraction10(), " $1 $2 "),
    ];

    /// <summary>NLTK <c>word_tokenize(text)</c> (English, sentences split first).</summary>
    public static List<string> WordTokenize(string text)
    {
        var tokens = new List<string>();
        foreach (var sentence in PunktSentenceTokenizer.Tokenize(text))
        {
            tokens.AddRange(Tokenize(sentence));
        }
        return tokens;
    }

    /// <summary><c>NLTKWordTokenizer().tokenize(sentence)</c>.</summary>
    public static List<string> Tokenize(string sentence)
    {
        var text = Apply(StartingQuotes, sentence);
        text = Apply(Punctuation, text);
        text = Apply(EndingQuotes, " " + text + " ");
        text = Apply(Contractions, text);
        return PyText.SplitWhitespace(text);
    }

    private static string Apply((Regex Pattern, string Replacement)[] rules, string text)
    {
        foreach (var (pattern, replacement) in rules)
        {
            text = pattern.Replace(text, replacement);
        }
        return text;
    }
}
