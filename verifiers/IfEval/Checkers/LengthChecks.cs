using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.IfEval.Checkers;

/// <summary><c>length_constraints:*</c> checks.</summary>
internal static partial class LengthChecks
{
    public const string NumberSentences = "length_constraints:number_sentences";
    public const string NumberParagraphs = "length_constraints:number_paragraphs";
    public const string NumberWords = "length_constraints:number_words";
    public const string NthParagraphFirstWord = "length_constraints:nth_paragraph_first_word";

    [GeneratedRegex(@"\s?\*\*\*\s?")] private static partial Regex ParagraphDividerRegex();
    [GeneratedRegex(PyText.WordClass + "+")] private static partial Regex WordTokenRegex();

    private static readonly Regex ParagraphDivider = ParagraphDividerRegex();
    private static readonly Regex WordToken = WordTokenRegex();

    /// <summary>IFEval's <c>count_words</c>: NLTK <c>RegexpTokenizer(r"\w+")</c> with Python's <c>\w</c>.</summary>
    public static int CountWords(string text) => WordToken.Count(text);

    public static IEnumerable<InstructionChecker> All() =>
    [
        new(NumberSentences, ["num_sentences", "relation"], (r, k) =>
            Kwargs.Rel(k, NumberSentences, "relation").Compare(
                PunktSentenceTokenizer.CountSentences(r), Kwargs.Int(k, NumberSentences, "num_sentences"))),
        new(NumberParagraphs, ["num_paragraphs"], (r, k) =>
        {
            int expected = Kwargs.Int(k, NumberParagraphs, "num_paragraphs");
            var paragraphs = ParagraphDivider.Split(r);
            int count = paragraphs.Length;
            for (int i = 0; i < paragraphs.Length; i++)
            {
                if (PyText.IsBlank(paragraphs[i]))
                {
                    if (i == 0 || i == paragraphs.Length - 1)
                    {
                        count--;
                    }
                    else
                    {
                        return false;
                    }
                }
            }
            return count == expected;
        }),
        new(NumberWords, ["num_words", "relation"], (r, k) =>
            Kwargs.Rel(k, NumberWords, "relation").Compare(CountWords(r), Kwargs.Int(k, NumberWords, "num_words"))),
        new(NthParagraphFirstWord, ["num_paragraphs", "nth_paragraph", "first_word"], NthParagraph),
    ];

    private static bool NthParagraph(string response, JsonObject k)
    {
        int expected = Kwargs.Int(k, NthParagraphFirstWord, "num_paragraphs");
        int nth = Kwargs.Int(k, NthParagraphFirstWord, "nth_paragraph");
        if (nth < 1)
        {
            throw new UserInputException($"instruction {NthParagraphFirstWord}: kwarg 'nth_paragraph' must be >= 1, got {nth}");
        }
        var firstWord = PyText.Lower(Kwargs.Str(k, NthParagraphFirstWord, "first_word"));
        var paragraphs = response.Split("\n\n");
        int count = paragraphs.Length;
        foreach (var p in paragraphs)
        {
            if (PyText.IsBlank(p))
            {
                count--;
            }
        }
        // As IFEval: the bound uses the non-blank count but the index runs over all parts, blank ones included.
        if (nth > count)
        {
            return false;
        }
        var paragraph = PyText.Strip(paragraphs[nth - 1]);
        if (paragraph.Length == 0)
        {
            return false;
        }
        var word = PyText.SplitWhitespace(paragraph)[0].TrimStart('\'').TrimStart('"');
        var actual = new System.Text.StringBuilder();
        foreach (var c in word)
        {
            if (c is '.' or ',' or '?' or '!' or '\'' or '"')
            {
                break;
            }
            actual.Append(char.ToLowerInvariant(c));
        }
        return count == expected && actual.ToString() == firstWord;
    }
}
