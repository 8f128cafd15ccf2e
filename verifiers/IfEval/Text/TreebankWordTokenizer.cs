using System.Text.RegularExpressions;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// C# port of NLTK's <c>word_tokenize</c> (nltk 3.8): punkt sentence split, then the <c>NLTKWordTokenizer</c>
/// (improved Treebank) rules in their original order. IFEval counts its all-capital tokens.
/// </summary>
public static class TreebankWordTokenizer
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    private static (Regex, string) Rule(string pattern, string replacement, RegexOptions extra = RegexOptions.None) =>
        (new Regex(pattern, Options | extra), replacement);

    private static readonly (Regex Pattern, string Replacement)[] StartingQuotes =
    [
        Rule("([«“‘„]|[`]+)", " $1 "),
        Rule("^\"", "``"),
        Rule("(``)", " $1 "),
        Rule(@"([ \(\[{<])(""|'{2})", "$1 `` "),
        Rule(@"(')(?!re|ve|ll|m|t|s|d|n)(" + PyText.WordClass + ")" + PyText.Boundary, "$1 $2", RegexOptions.IgnoreCase),
    ];

    private static readonly (Regex Pattern, string Replacement)[] Punctuation =
    [
        Rule(@"([^\.])(\.)([\]\)}>""'»”’ ]*)\s*$", "$1 $2 $3 "),
        Rule(@"([:,])([^\d])", " $1 $2"),
        Rule(@"([:,])$", " $1 "),
        Rule(@"\.{2,}", " $0 "),
        Rule(@"[;@#$%&]", " $0 "),
        Rule(@"([^\.])(\.)([\]\)}>""']*)\s*$", "$1 $2$3 "),
        Rule(@"[?!]", " $0 "),
        Rule(@"([^'])' ", "$1 ' "),
        Rule(@"[*]", " $0 "),
        Rule(@"[\]\[\(\)\{\}\<\>]", " $0 "),
        Rule("--", " -- "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] EndingQuotes =
    [
        Rule("([»”’])", " $1 "),
        Rule("''", " '' "),
        Rule("\"", " '' "),
        Rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
        Rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
    ];

    private static readonly (Regex Pattern, string Replacement)[] Contractions =
    [
        .. new[] { "(can)(not)", "(d)('ye)", "(gim)(me)", "(gon)(na)", "(got)(ta)", "(lem)(me)", "(more)('n)" }
            .Select(p => Rule(PyText.Boundary + p + PyText.Boundary, " $1 $2 ", RegexOptions.IgnoreCase)),
        Rule(PyText.Boundary + @"(wan)(na)(?=\s)", " $1 $2 ", RegexOptions.IgnoreCase),
        Rule(" ('t)(is)" + PyText.Boundary, " $1 $2 ", RegexOptions.IgnoreCase),
        Rule(" ('t)(was)" + PyText.Boundary, " $1 $2 ", RegexOptions.IgnoreCase),
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
