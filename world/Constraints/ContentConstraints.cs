using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.World.Text;

namespace SparOrleans.World.Constraints;

/// <summary>Where the teacher inserts words: the first body sentence with a stop that no other constraint pins.</summary>
internal static class Insertion
{
    public static string Insert(string text, string phrase, EditContext context, int skip = 0)
    {
        var units = TextEdit.BodySentences(text)
            .Where(s => !context.ProtectedSentences.Any(p => TextEdit.SameSentence(p, s.Of(text))))
            .ToList();
        var withStop = units.Where(s => ".!?".Contains(s.Of(text).TrimEnd('"')[^1])).ToList();
        var pool = withStop.Count > 0 ? withStop : units;
        if (pool.Count == 0)
        {
            return TextEdit.InsideQuotes(text, inner => inner.TrimEnd() + " It had" + phrase + ".");
        }
        return TextEdit.InsertBeforeStop(text, pool[skip % pool.Count], phrase);
    }
}

/// <summary>Content / keyword: the response mentions each keyword (IFEval <c>keywords:existence</c>).</summary>
public sealed class KeywordsConstraint(Random rng, IReadOnlyList<string> keywords)
    : Constraint(rng.Pick(Templates).Replace("{k}", string.Join(" and ", keywords)))
{
    public static readonly ConstraintKind KindInfo = new("keywords", ConstraintFamily.Content, "keyword", "keywords:existence", 12);
    private static readonly string[] Templates =
        ["Include the keywords {k}.", "Make sure to mention {k}.", "Your answer must contain the words {k}."];

    public IReadOnlyList<string> Keywords { get; } = keywords;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["keywords"] = new JsonArray([.. Keywords.Select(k => JsonValue.Create(k))]) };
    public override string Label => $"mentions {string.Join(" and ", Keywords)}";
    public override string FixHint => $"insert the word {string.Join(" and ", Keywords)}";
    public override IEnumerable<string> Words => Keywords;

    public override string Evidence(string response) =>
        string.Join("; ", Keywords.Select(k => $"{k}: {(TextEdit.CountSubstring(response, k) > 0 ? "found" : "missing")}"));

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        foreach (var k in Keywords.Where(k => TextEdit.CountSubstring(text, k) == 0))
        {
            text = Insertion.Insert(text, $" with the {k}", context);
        }
        return text;
    }

    public override string? Break(string response, EditContext context)
    {
        var keyword = context.Rng.Pick(Keywords);
        var substitute = Lexicon.Objects.FirstOrDefault(o => !Keywords.Contains(o) && TextEdit.CountSubstring(response, o) == 0);
        return substitute is null ? null : Regex.Replace(response, Regex.Escape(keyword), m => TextEdit.MatchCase(m.Value, substitute), RegexOptions.IgnoreCase);
    }
}

/// <summary>Content / keyword: a keyword at least N times (IFEval <c>keywords:frequency</c>, relation "at least").</summary>
public sealed class KeywordFrequencyConstraint(Random rng, string keyword, int frequency)
    : Constraint(rng.Pick(Templates).Replace("{k}", keyword).Replace("{n}", frequency.ToString(CultureInfo.InvariantCulture)))
{
    public static readonly ConstraintKind KindInfo = new("keyword_frequency", ConstraintFamily.Content, "keyword", "keywords:frequency", 13);
    private static readonly string[] Templates =
        ["Use the word {k} at least {n} times.", "The word {k} should appear at least {n} times.", "Mention {k} {n} or more times."];
    private static readonly string[] Phrases = [" with the {k}", " near the {k}", " and the {k}"];

    public string Keyword { get; } = keyword;
    public int Frequency { get; } = frequency;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["keyword"] = Keyword, ["frequency"] = Frequency, ["relation"] = "at least" };
    public override string Label => $"{Keyword} at least {Frequency} times";
    public override string FixHint => $"use {Keyword} {Frequency} times";
    public override IEnumerable<string> Words => [Keyword];

    public override string Evidence(string response) =>
        $"{Keyword}: {TextEdit.CountSubstring(response, Keyword)} times; required: at least {Frequency}";

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        for (var k = TextEdit.CountSubstring(text, Keyword); k < Frequency; k++)
        {
            text = Insertion.Insert(text, Phrases[k % Phrases.Length].Replace("{k}", Keyword), context, skip: k);
        }
        return text;
    }

    public override string? Break(string response, EditContext context)
    {
        var count = TextEdit.CountSubstring(response, Keyword);
        var substitute = Lexicon.Objects.FirstOrDefault(o => o != Keyword && TextEdit.CountSubstring(response, o) == 0);
        if (count == 0 || substitute is null)
        {
            return null;
        }
        // Keep Frequency - 1 occurrences: the smallest edit that breaks "at least".
        var keep = Frequency - 1;
        var seen = 0;
        return Regex.Replace(response, Regex.Escape(Keyword), m => seen++ < keep ? m.Value : TextEdit.MatchCase(m.Value, substitute), RegexOptions.IgnoreCase);
    }
}

/// <summary>Content / keyword: none of the forbidden words, whole-word (IFEval <c>keywords:forbidden_words</c>).</summary>
public sealed class ForbiddenWordsConstraint(Random rng, IReadOnlyList<string> words)
    : Constraint(rng.Pick(Templates).Replace("{w}", string.Join(" or ", words)))
{
    public static readonly ConstraintKind KindInfo = new("forbidden_words", ConstraintFamily.Content, "keyword", "keywords:forbidden_words", 11);
    private static readonly string[] Templates =
        ["Do not use the words {w}.", "Avoid the words {w}.", "Never write the words {w}."];

    public IReadOnlyList<string> Forbidden { get; } = words;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["forbidden_words"] = new JsonArray([.. Forbidden.Select(k => JsonValue.Create(k))]) };
    public override string Label => $"without {string.Join(" or ", Forbidden)}";
    public override string FixHint => $"replace {string.Join(" and ", Forbidden)} with other words";
    public override IEnumerable<string> Words => Forbidden;

    public override string Evidence(string response)
    {
        var found = Forbidden.Where(w => TextEdit.WholeWord(response, w).Count > 0).ToList();
        return $"forbidden words found: {(found.Count == 0 ? "none" : string.Join(", ", found))}";
    }

    public override string Fix(string response, EditContext context) =>
        Forbidden.Aggregate(response, (text, w) => TextEdit.ReplaceWholeWord(text, w, Lexicon.Synonyms.TryGetValue(w, out var s) ? s : "nice"));

    public override string? Break(string response, EditContext context)
    {
        var word = context.Rng.Pick(Forbidden);
        if (Lexicon.Synonyms.TryGetValue(word, out var synonym) && TextEdit.WholeWord(response, synonym).Count > 0)
        {
            return TextEdit.ReplaceWholeWord(response, synonym, word, maxCount: 1);
        }
        var nouns = string.Join("|", Lexicon.Animals.Concat(Lexicon.Objects).Concat(Lexicon.Places));
        var m = Regex.Match(response, $@"\b(a|an|the) (?=(?:{nouns})\b)", RegexOptions.IgnoreCase);
        if (!m.Success)
        {
            return null;
        }
        var article = m.Groups[1].Value.Equals("the", StringComparison.OrdinalIgnoreCase) ? m.Groups[1].Value : TextEdit.MatchCase(m.Groups[1].Value, Lexicon.Article(word));
        return response[..m.Index] + article + " " + word + " " + response[(m.Index + m.Length)..];
    }
}

/// <summary>Content / symbol: at least N placeholders in square brackets (IFEval <c>detectable_content:number_placeholders</c>).</summary>
public sealed partial class PlaceholdersConstraint(Random rng, int count)
    : Constraint(rng.Pick(count == 1 ? Singular : Plural).Replace("{n}", count.ToString(CultureInfo.InvariantCulture)))
{
    public static readonly ConstraintKind KindInfo = new("placeholders", ConstraintFamily.Content, "symbol", "detectable_content:number_placeholders", 14);
    private static readonly string[] Singular = ["Include a placeholder like [name].", "Leave a blank in brackets, like [place]."];
    private static readonly string[] Plural = ["Include at least {n} placeholders like [name].", "Leave at least {n} blanks in brackets, like [place]."];
    private static readonly string[] Inserts = [" for [name]", " at [place]", " on [date]"];

    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex Placeholder();

    public int Count { get; } = count;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["num_placeholders"] = Count };
    public override string Label => $"at least {Count} placeholders";
    public override string FixHint => $"add placeholders like [name] to reach {Count}";
    public override Tasks.ContentPlan Shape(Tasks.ContentPlan plan) => plan with { Placeholders = true };

    public override string Evidence(string response)
    {
        var found = Placeholder().Matches(response).Select(m => m.Value).Take(4).ToList();
        return $"placeholders: {(found.Count == 0 ? "none" : string.Join(" ", found))}; required: {Count}";
    }

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        for (var k = Placeholder().Matches(text).Count; k < Count; k++)
        {
            text = Insertion.Insert(text, Inserts[k % Inserts.Length], context, skip: k);
        }
        return text;
    }

    public override string? Break(string response, EditContext context)
    {
        var matches = Placeholder().Matches(response).ToList();
        if (matches.Count < Count)
        {
            return null;
        }
        var text = response;
        for (var k = matches.Count - 1; k >= Count - 1; k--)
        {
            var m = matches[k];
            var filler = m.Value switch
            {
                "[name]" => context.Rng.Pick(Lexicon.Names),
                "[place]" => "the " + context.Rng.Pick(Lexicon.Places),
                "[date]" => "Monday",
                _ => m.Value[1..^1],
            };
            text = text[..m.Index] + filler + text[(m.Index + m.Length)..];
        }
        return text;
    }
}

/// <summary>
/// Content / sentence: the response opens or closes with a required sentence. Openings are checked with IFEval's
/// <c>combination:repeat_prompt</c> (the response must start with <c>prompt_to_repeat</c>), closings with
/// <c>startend:end_checker</c>. The synthetic start/end story uses the same checks with its S1 and S2.
/// </summary>
public sealed class RequiredSentenceConstraint : Constraint
{
    public static readonly ConstraintKind StartKind = new("start_sentence", ConstraintFamily.Content, "sentence", "combination:repeat_prompt", 30);
    public static readonly ConstraintKind EndKind = new("end_sentence", ConstraintFamily.Content, "sentence", "startend:end_checker", 31);
    public static readonly ConstraintKind StoryStartKind = new("story_start", ConstraintFamily.Content, "sentence", "combination:repeat_prompt", 30);
    public static readonly ConstraintKind StoryEndKind = new("story_end", ConstraintFamily.Content, "sentence", "startend:end_checker", 31);
    private static readonly string[] StartTemplates =
        ["Begin with the sentence \"{s}\"", "Start your answer with exactly: {s}", "The first sentence must be \"{s}\""];
    private static readonly string[] EndTemplates =
        ["End with the exact sentence \"{s}\"", "Finish your answer with \"{s}\"", "The last sentence must be \"{s}\""];

    private RequiredSentenceConstraint(ConstraintKind kind, string sentence, string phrase) : base(phrase)
    {
        Kind = kind;
        Sentence = sentence;
    }

    /// <summary>A start or end sentence stated in the prompt.</summary>
    public static RequiredSentenceConstraint Create(Random rng, string sentence, bool atStart) =>
        new(atStart ? StartKind : EndKind, sentence, rng.Pick(atStart ? StartTemplates : EndTemplates).Replace("{s}", sentence));

    /// <summary>The synthetic story's S1 or S2: the task prompt states it, so the constraint adds no phrase.</summary>
    public static RequiredSentenceConstraint ForStory(string sentence, bool atStart) =>
        new(atStart ? StoryStartKind : StoryEndKind, sentence, "");

    public string Sentence { get; }
    public bool AtStart => Kind == StartKind || Kind == StoryStartKind;
    public override ConstraintKind Kind { get; }
    public override JsonObject Kwargs() => AtStart ? new() { ["prompt_to_repeat"] = Sentence } : new() { ["end_phrase"] = Sentence };
    public override string Label => AtStart ? $"starts with \"{Sentence}\"" : $"ends with \"{Sentence}\"";
    public override string FixHint => AtStart ? $"begin with \"{Sentence}\"" : $"end with \"{Sentence}\"";
    public override IEnumerable<string> Protected => [Sentence];

    public override string Evidence(string response)
    {
        var tokens = response.Trim().Trim('"').Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var n = Sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var seen = AtStart ? tokens.Take(n) : tokens.Skip(Math.Max(0, tokens.Length - n));
        return $"{(AtStart ? "first" : "last")} words: {string.Join(" ", seen)}; required: {Sentence}";
    }

    public override string Fix(string response, EditContext context) => AtStart ? FixStart(response) : TextEdit.InsideQuotes(response, FixEnd);

    public override string? Break(string response, EditContext context)
    {
        var sentences = TextEdit.BodySentences(response);
        if (sentences.Count < 2)
        {
            return null;
        }
        var target = AtStart ? sentences[0] : sentences[^1];
        if (!TextEdit.SameSentence(target.Of(response), Sentence))
        {
            return null;
        }
        var pool = AtStart ? Lexicon.Openings : Lexicon.Closings;
        // The paper's flawed story lacks the sentence; a flawed ending may instead swap in a different closing.
        if (Kind == StoryStartKind || Kind == StoryEndKind || context.Rng.Next(2) == 0)
        {
            return TextEdit.RemoveSentence(response, target).TrimEnd();
        }
        var other = context.Rng.Pick(pool.Where(p => !TextEdit.SameSentence(p, Sentence)).ToList());
        var quoteEnd = target.Of(response).EndsWith('"') ? "\"" : "";
        return TextEdit.ReplaceSpan(response, target, other + quoteEnd);
    }

    private string FixStart(string text)
    {
        var trimmed = text.TrimStart();
        var sentences = TextEdit.BodySentences(trimmed);
        if (sentences.Count > 0)
        {
            var first = sentences[0].Of(trimmed);
            if (Lexicon.Openings.Any(o => TextEdit.SameSentence(o, first)))
            {
                return TextEdit.ReplaceSpan(trimmed, sentences[0], Sentence);
            }
        }
        var firstLine = trimmed.Split('\n')[0];
        var separator = TextEdit.IsBulletLine(firstLine) || firstLine.Contains(':') || firstLine.EndsWith(',') ? "\n" : " ";
        return Sentence + separator + trimmed;
    }

    private string FixEnd(string text)
    {
        var trimmed = text.TrimEnd();
        var sentences = TextEdit.BodySentences(trimmed);
        if (sentences.Count > 0)
        {
            var last = sentences[^1].Of(trimmed);
            if (Lexicon.Closings.Any(c => TextEdit.SameSentence(c, last)))
            {
                return TextEdit.ReplaceSpan(trimmed, sentences[^1], Sentence);
            }
        }
        var lastLine = trimmed.Split('\n')[^1];
        var separator = TextEdit.IsBulletLine(lastLine) || lastLine.Contains(':') ? "\n" : " ";
        return trimmed + separator + Sentence;
    }
}
