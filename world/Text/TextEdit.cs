using System.Text.RegularExpressions;

namespace SparOrleans.World.Text;

/// <summary>A sentence inside a response: its character span and the line it sits on.</summary>
public readonly record struct SentenceSpan(int Start, int Length, int Line)
{
    public int End => Start + Length;

    public string Of(string text) => text.Substring(Start, Length);
}

/// <summary>
/// Small string surgery shared by the teacher's writing, fixing and breaking of responses. The world's responses
/// are a few lines: an optional <c>&lt;&lt;title&gt;&gt;</c> line, body lines of sentences or bullets, an optional
/// P.S. line, optionally wrapped in double quotes.
/// </summary>
public static partial class TextEdit
{
    [GeneratedRegex(@"^\s*<<[^\n]*>>\s*$")]
    private static partial Regex TitleLine();

    [GeneratedRegex(@"^\s*p\.\s?s\.", RegexOptions.IgnoreCase)]
    private static partial Regex PostscriptLine();

    [GeneratedRegex(@"[^.!?]+(?:[.!?]+""?|$)")]
    private static partial Regex SentenceRun();

    [GeneratedRegex(@"^\s*(-|\*[^*])")]
    private static partial Regex BulletLine();

    public static bool IsTitleLine(string line) => TitleLine().IsMatch(line);

    public static bool IsPostscriptLine(string line) => PostscriptLine().IsMatch(line.TrimStart('"'));

    /// <summary>A markdown bullet as IFEval counts it (<c>- item</c> or <c>* item</c>).</summary>
    public static bool IsBulletLine(string line) => BulletLine().IsMatch(line);

    /// <summary>Sentences of the body: title and P.S. lines are left out; a bullet line without a stop is one unit.</summary>
    public static List<SentenceSpan> BodySentences(string text)
    {
        var result = new List<SentenceSpan>();
        var offset = 0;
        var lines = text.Split('\n');
        for (var li = 0; li < lines.Length; li++)
        {
            var line = lines[li];
            if (!IsTitleLine(line) && !IsPostscriptLine(line))
            {
                foreach (Match m in SentenceRun().Matches(line))
                {
                    var start = m.Index;
                    var end = m.Index + m.Length;
                    while (start < end && char.IsWhiteSpace(line[start]))
                    {
                        start++;
                    }
                    while (end > start && char.IsWhiteSpace(line[end - 1]))
                    {
                        end--;
                    }
                    if (end > start && line[start..end].Any(char.IsLetterOrDigit))
                    {
                        result.Add(new SentenceSpan(offset + start, end - start, li));
                    }
                }
            }
            offset += line.Length + 1;
        }
        return result;
    }

    /// <summary>The sentence's text without surrounding spaces and the response's wrapping quotes.</summary>
    public static string Clean(string sentence) => sentence.Trim().Trim('"').Trim();

    public static bool SameSentence(string a, string b) =>
        string.Equals(Clean(a), Clean(b), StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Applies <paramref name="edit"/> to the text inside a pair of wrapping double quotes (if any) and restores them,
    /// so edits at the start or end of a quoted response land inside the quotes.
    /// </summary>
    public static string InsideQuotes(string text, Func<string, string> edit)
    {
        var trimmed = text.Trim();
        if (trimmed.Length > 1 && trimmed[0] == '"' && trimmed[^1] == '"')
        {
            return "\"" + edit(trimmed[1..^1]) + "\"";
        }
        return edit(text);
    }

    /// <summary>Inserts <paramref name="phrase"/> (e.g. " with a lamp") before the closing stop of the sentence.</summary>
    public static string InsertBeforeStop(string text, SentenceSpan sentence, string phrase)
    {
        var end = sentence.End;
        while (end > sentence.Start && (".!?\"".Contains(text[end - 1])))
        {
            end--;
        }
        return text[..end] + phrase + text[end..];
    }

    /// <summary>Removes a sentence and the space after (or before) it.</summary>
    public static string RemoveSentence(string text, SentenceSpan sentence)
    {
        var start = sentence.Start;
        var end = sentence.End;
        if (end < text.Length && text[end] == ' ')
        {
            end++;
        }
        else if (start > 0 && text[start - 1] == ' ')
        {
            start--;
        }
        return text[..start] + text[end..];
    }

    public static string ReplaceSpan(string text, SentenceSpan span, string replacement) =>
        text[..span.Start] + replacement + text[span.End..];

    /// <summary>Words (letters only) with their positions, skipping markup.</summary>
    public static List<(int Start, string Word)> Words(string text)
    {
        var result = new List<(int, string)>();
        foreach (Match m in WordRegex().Matches(text))
        {
            result.Add((m.Index, m.Value));
        }
        return result;
    }

    [GeneratedRegex(@"[A-Za-z]+")]
    private static partial Regex WordRegex();

    /// <summary>Case-insensitive count of a keyword as a substring (IFEval's keyword frequency semantics).</summary>
    public static int CountSubstring(string text, string keyword) =>
        Regex.Matches(text, Regex.Escape(keyword), RegexOptions.IgnoreCase).Count;

    /// <summary>Whole-word, case-insensitive matches of <paramref name="word"/>.</summary>
    public static MatchCollection WholeWord(string text, string word) =>
        Regex.Matches(text, $@"\b{Regex.Escape(word)}\b", RegexOptions.IgnoreCase);

    /// <summary>Replaces whole-word occurrences, keeping a capital first letter capital.</summary>
    public static string ReplaceWholeWord(string text, string word, string replacement, int maxCount = int.MaxValue)
    {
        var done = 0;
        return Regex.Replace(text, $@"\b{Regex.Escape(word)}\b", m =>
        {
            if (done++ >= maxCount)
            {
                return m.Value;
            }
            return char.IsUpper(m.Value[0]) ? MatchCase(m.Value, replacement) : replacement;
        }, RegexOptions.IgnoreCase);
    }

    /// <summary><paramref name="replacement"/> in the case pattern of <paramref name="original"/> (all caps or capitalized).</summary>
    public static string MatchCase(string original, string replacement)
    {
        if (original.Length > 1 && original.All(c => !char.IsLetter(c) || char.IsUpper(c)))
        {
            return replacement.ToUpperInvariant();
        }
        return char.IsUpper(original[0]) ? Lexicon.Capitalize(replacement) : replacement;
    }

    /// <summary>Same text with <c>\r\n</c> folded and outer whitespace trimmed.</summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
