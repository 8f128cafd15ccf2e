using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.World.Tasks;
using SparOrleans.World.Text;

namespace SparOrleans.World.Constraints;

/// <summary>
/// General / language style: at least N words in all capitals for emphasis
/// (IFEval <c>change_case:capital_word_frequency</c>, relation "at least").
/// </summary>
public sealed class CapitalWordsConstraint(Random rng, int count)
    : Constraint(rng.Pick(count == 1 ? Singular : Plural).Replace("{n}", count.ToString(CultureInfo.InvariantCulture)))
{
    public static readonly ConstraintKind KindInfo = new("capital_words", ConstraintFamily.General, "language style", "change_case:capital_word_frequency", 45);
    private static readonly string[] Singular = ["Write at least one word in ALL CAPS for emphasis.", "Write at least one word in capitals."];
    private static readonly string[] Plural = ["Write at least {n} words in ALL CAPS for emphasis.", "Write at least {n} words in capitals."];

    public int Count { get; } = count;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["capital_frequency"] = Count, ["capital_relation"] = "at least" };
    public override string Label => $"at least {Count} words in capitals";
    public override string FixHint => $"write {Count} words in capitals";

    /// <summary>All-capital words as IFEval counts them (a one-letter "I" or "A" counts too).</summary>
    public static List<string> CapitalWords(string text) =>
        TextEdit.Words(text).Select(w => w.Word).Where(w => w.All(char.IsUpper)).ToList();

    public override string Evidence(string response)
    {
        var caps = CapitalWords(response);
        return $"capital words: {(caps.Count == 0 ? "none" : string.Join(" ", caps.Take(5)))}; required: at least {Count}";
    }

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        var need = Count - CapitalWords(text).Count;
        foreach (var (start, word) in TextEdit.Words(text).Where(w => w.Word.Length >= 3 && w.Word.Any(char.IsLower) && !Lexicon.FunctionWords.Contains(w.Word)).Reverse().Where((_, i) => i % 2 == 1).Take(Math.Max(0, need)))
        {
            text = text[..start] + word.ToUpperInvariant() + text[(start + word.Length)..];
        }
        return CapitalWords(text).Count >= Count ? text : ForceFix(text);
    }

    public override string? Break(string response, EditContext context)
    {
        var text = response;
        foreach (var (start, word) in TextEdit.Words(text).Where(w => w.Word.Length >= 2 && w.Word.All(char.IsUpper)).Reverse())
        {
            if (CapitalWords(text).Count < Count)
            {
                break;
            }
            text = text[..start] + word.ToLowerInvariant() + text[(start + word.Length)..];
        }
        return CapitalWords(text).Count < Count ? text : null;
    }

    private string ForceFix(string text)
    {
        foreach (var (start, word) in TextEdit.Words(text).Where(w => w.Word.Length >= 2 && w.Word.Any(char.IsLower)).Reverse())
        {
            if (CapitalWords(text).Count >= Count)
            {
                break;
            }
            text = text[..start] + word.ToUpperInvariant() + text[(start + word.Length)..];
        }
        return text;
    }
}

/// <summary>
/// General / sentiment: the tone is positive (or negative): at least one word of that tone from the world's list and
/// none of the opposite tone. IFEval has no such check; this is the world's own <c>sim:sentiment</c>.
/// </summary>
public sealed class SentimentConstraint(Random rng, bool positive)
    : Constraint(rng.Pick(positive ? PositiveTemplates : NegativeTemplates))
{
    public const string InstructionId = "sim:sentiment";
    public static readonly ConstraintKind KindInfo = new("sentiment", ConstraintFamily.General, "sentiment", InstructionId, 10);
    private static readonly string[] PositiveTemplates =
        ["Keep it positive: use a word like happy or glad, no sad words.", "Make it sound happy (a word like joyful, never a sad word)."];
    private static readonly string[] NegativeTemplates =
        ["Make it sad: use a word like gloomy or lonely, no happy words.", "Give it a gloomy mood (a word like grim, never a happy word)."];

    public bool Positive { get; } = positive;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["sentiment"] = Positive ? "positive" : "negative" };
    public override string Label => Positive ? "positive tone" : "negative tone";
    public override string FixHint => Positive ? "use a happy word and drop sad ones" : "use a sad word and drop happy ones";

    private IReadOnlyList<string> Wanted => Positive ? Lexicon.Positive : Lexicon.Negative;
    private IReadOnlyList<string> Unwanted => Positive ? Lexicon.Negative : Lexicon.Positive;

    /// <summary>The world's sentiment check: one wanted word, no unwanted word (whole words, any case).</summary>
    public static bool Check(string response, bool positive)
    {
        var wanted = positive ? Lexicon.Positive : Lexicon.Negative;
        var unwanted = positive ? Lexicon.Negative : Lexicon.Positive;
        return wanted.Any(w => TextEdit.WholeWord(response, w).Count > 0) && !unwanted.Any(w => TextEdit.WholeWord(response, w).Count > 0);
    }

    public override string Evidence(string response)
    {
        string Found(IReadOnlyList<string> list)
        {
            var f = list.Where(w => TextEdit.WholeWord(response, w).Count > 0).ToList();
            return f.Count == 0 ? "none" : string.Join(", ", f);
        }
        return $"{(Positive ? "happy" : "sad")} words: {Found(Wanted)}; {(Positive ? "sad" : "happy")} words: {Found(Unwanted)}";
    }

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        for (var i = 0; i < Unwanted.Count; i++)
        {
            text = TextEdit.ReplaceWholeWord(text, Unwanted[i], Wanted[i]);
        }
        if (Wanted.Any(w => TextEdit.WholeWord(text, w).Count > 0))
        {
            return text;
        }
        var word = context.Rng.Pick(Wanted);
        var nouns = string.Join("|", Lexicon.Animals.Concat(Lexicon.Objects).Concat(Lexicon.Places));
        foreach (Match m in Regex.Matches(text, $@"\b(a|an|the) (?=(?:{nouns})\b)", RegexOptions.IgnoreCase))
        {
            var inProtected = context.ProtectedSentences.Any(p =>
            {
                var at = text.IndexOf(TextEdit.Clean(p), StringComparison.OrdinalIgnoreCase);
                return at >= 0 && m.Index >= at && m.Index < at + p.Length;
            });
            if (!inProtected)
            {
                var article = m.Groups[1].Value.Equals("the", StringComparison.OrdinalIgnoreCase) ? m.Groups[1].Value : TextEdit.MatchCase(m.Groups[1].Value, Lexicon.Article(word));
                return text[..m.Index] + article + " " + word + " " + text[(m.Index + m.Length)..];
            }
        }
        return Insertion.Insert(text, $" and felt {word}", context);
    }

    public override string? Break(string response, EditContext context)
    {
        for (var i = 0; i < Wanted.Count; i++)
        {
            if (TextEdit.WholeWord(response, Wanted[i]).Count > 0)
            {
                return TextEdit.ReplaceWholeWord(response, Wanted[i], Unwanted[i], maxCount: 1);
            }
        }
        return null;
    }
}

/// <summary>
/// The paper's character-sequence task: exactly N copies of a letter, in any case, spaces allowed
/// (<c>sim:letter_copies</c>; IFEval's letter frequency cannot say "exactly").
/// </summary>
public sealed class LetterCopiesConstraint(char letter, int count) : Constraint("")
{
    public const string InstructionId = "sim:letter_copies";
    public static readonly ConstraintKind KindInfo = new("letter_copies", ConstraintFamily.Format, "numeric format", InstructionId, 5);

    public char Letter { get; } = char.ToLowerInvariant(letter);
    public int Count { get; } = count;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["letter"] = Letter.ToString(), ["count"] = Count };
    public override string Label => $"exactly {Count} copies of {Letter}";
    public override string FixHint => $"write exactly {Count} {Letter}";

    /// <summary>The check: ignoring whitespace, the response is the letter (any case) exactly <paramref name="count"/> times.</summary>
    public static bool Check(string response, char letter, int count)
    {
        var chars = response.Where(c => !char.IsWhiteSpace(c)).ToList();
        return chars.Count == count && chars.All(c => char.ToLowerInvariant(c) == char.ToLowerInvariant(letter));
    }

    public override string Evidence(string response)
    {
        var chars = response.Where(c => !char.IsWhiteSpace(c)).ToList();
        var hits = chars.Count(c => char.ToLowerInvariant(c) == Letter);
        var others = chars.Count - hits;
        return $"copies of {Letter}: {hits}{(others > 0 ? $"; other characters: {others}" : "")}; required: {Count}";
    }

    public override string Fix(string response, EditContext context)
    {
        var letters = response.Where(char.IsLetter).ToList();
        var upper = letters.Count > 0 && letters.Count(char.IsUpper) * 2 > letters.Count;
        return SeedTaskGenerator.LetterRun(Letter, Count, upper);
    }

    public override string? Break(string response, EditContext context)
    {
        var letters = response.Where(char.IsLetter).ToList();
        var upper = letters.Count > 0 && letters.Count(char.IsUpper) * 2 > letters.Count;
        var delta = context.Rng.Next(1, 3) * (Count > 3 && context.Rng.Next(2) == 0 ? -1 : 1);
        return SeedTaskGenerator.LetterRun(Letter, Count + delta, upper);
    }
}
