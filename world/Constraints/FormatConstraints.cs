using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.World.Tasks;
using SparOrleans.World.Text;

namespace SparOrleans.World.Constraints;

/// <summary>Format / character format: every letter lowercase (IFEval <c>change_case:english_lowercase</c>).</summary>
public sealed class LowercaseConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("lowercase", ConstraintFamily.Format, "character format", "change_case:english_lowercase", 50);
    private static readonly string[] Templates =
        ["Your entire response should be in lowercase letters.", "Write everything in lowercase.", "Use only lowercase letters."];

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => [];
    public override string Label => "all lowercase";
    public override string FixHint => "lowercase every letter";

    public override string Evidence(string response)
    {
        var caps = TextEdit.Words(response).Select(w => w.Word).Where(w => w.Any(char.IsUpper)).Distinct().Take(3).ToList();
        return caps.Count == 0 ? "capitalized words: none" : $"capitalized words: {string.Join(", ", caps)}";
    }

    public override string Fix(string response, EditContext context) => response.ToLowerInvariant();

    public override string? Break(string response, EditContext context)
    {
        var words = TextEdit.Words(response).Where(w => w.Word.Length > 1 && w.Word.All(char.IsLower)).ToList();
        if (words.Count == 0)
        {
            return null;
        }
        var (start, _) = context.Rng.Pick(words);
        return response[..start] + char.ToUpperInvariant(response[start]) + response[(start + 1)..];
    }
}

/// <summary>Format / character format: every letter capital (IFEval <c>change_case:english_capital</c>).</summary>
public sealed class UppercaseConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("uppercase", ConstraintFamily.Format, "character format", "change_case:english_capital", 50);
    private static readonly string[] Templates =
        ["Your entire response should be in capital letters.", "Write the whole answer in uppercase.", "Use only capital letters."];

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => [];
    public override string Label => "all capitals";
    public override string FixHint => "capitalize every letter";

    public override string Evidence(string response)
    {
        var lower = TextEdit.Words(response).Select(w => w.Word).Where(w => w.Any(char.IsLower)).Distinct().Take(3).ToList();
        return lower.Count == 0 ? "words with small letters: none" : $"words with small letters: {string.Join(", ", lower)}";
    }

    public override string Fix(string response, EditContext context) => response.ToUpperInvariant();

    public override string? Break(string response, EditContext context)
    {
        var words = TextEdit.Words(response).Where(w => w.Word.Length > 2).ToList();
        if (words.Count == 0)
        {
            return null;
        }
        var (start, word) = context.Rng.Pick(words);
        return response[..start] + word.ToLowerInvariant() + response[(start + word.Length)..];
    }
}

/// <summary>Format / punctuation: no commas (IFEval <c>punctuation:no_comma</c>).</summary>
public sealed class NoCommaConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("no_comma", ConstraintFamily.Format, "punctuation", "punctuation:no_comma", 51);
    private static readonly string[] Templates =
        ["Do not use any commas.", "Avoid commas in your response.", "Use no commas at all."];

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => [];
    public override string Label => "no commas";
    public override string FixHint => "delete the commas";

    public override string Evidence(string response)
    {
        // The word carrying the comma is copied, so the evidence points at the comma instead of counting it.
        var carriers = Regex.Matches(response, @"(\S*),").Select(m => m.Value).Take(3).ToList();
        return carriers.Count == 0 ? "commas: none" : $"commas after: {string.Join(" ", carriers)}";
    }

    public override string Fix(string response, EditContext context) => response.Replace(",", "");

    public override string? Break(string response, EditContext context)
    {
        var slots = Regex.Matches(response, @"[A-Za-z](?= [a-z])").Select(m => m.Index + 1).ToList();
        if (slots.Count == 0)
        {
            return null;
        }
        var at = context.Rng.Pick(slots);
        return response[..at] + "," + response[at..];
    }
}

/// <summary>Format / template: the whole response in double quotes (IFEval <c>startend:quotation</c>).</summary>
public sealed class QuotationConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("quotation", ConstraintFamily.Format, "template", "startend:quotation", 60);
    private static readonly string[] Templates =
        ["Wrap your entire response in double quotation marks.", "Put the whole answer inside double quotes.", "Enclose your response in double quotes."];

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => [];
    public override string Label => "wrapped in double quotes";
    public override string FixHint => "wrap the response in double quotes";

    public override string Evidence(string response)
    {
        var t = response.Trim();
        return t.Length == 0 ? "first: none; last: none" : $"first: {t[0]}; last: {t[^1]}";
    }

    public override string Fix(string response, EditContext context)
    {
        var t = response.Trim();
        if (!t.StartsWith('"'))
        {
            t = "\"" + t;
        }
        if (t.Length < 2 || !t.EndsWith('"'))
        {
            t += "\"";
        }
        return t;
    }

    public override string? Break(string response, EditContext context)
    {
        var t = response.Trim();
        return context.Rng.Next(2) == 0 ? t.TrimEnd('"') : t.Trim('"');
    }
}

/// <summary>Format / template: a title in double angular brackets (IFEval <c>detectable_format:title</c>).</summary>
public sealed partial class TitleConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("title", ConstraintFamily.Format, "template", "detectable_format:title", 32);
    private static readonly string[] Templates =
        ["Add a title in double angular brackets, like <<title>>.", "Include a title in the form <<title>>.", "Give it a title inside << and >>."];

    [GeneratedRegex(@"<<[^\n]+>>")]
    private static partial Regex TitleRegex();

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => [];
    public override string Label => "a title in <<>>";
    public override string FixHint => "add a title line in <<>>";

    public override string Evidence(string response)
    {
        var m = TitleRegex().Match(response);
        return m.Success ? $"title: {m.Value}" : "title: none";
    }

    public override string Fix(string response, EditContext context) =>
        TextEdit.InsideQuotes(response, inner => $"<<{context.Task.Title}>>\n" + inner.TrimStart());

    public override string? Break(string response, EditContext context)
    {
        var lines = response.Split('\n').ToList();
        var i = lines.FindIndex(l => TitleRegex().IsMatch(l));
        if (i < 0)
        {
            return null;
        }
        if (TextEdit.IsTitleLine(lines[i].Trim('"')))
        {
            var quoted = lines[i].StartsWith('"');
            lines.RemoveAt(i);
            if (quoted && lines.Count > 0)
            {
                lines[i < lines.Count ? i : 0] = "\"" + lines[i < lines.Count ? i : 0];
            }
            return string.Join("\n", lines);
        }
        return TitleRegex().Replace(response, m => m.Value[2..^2], 1);
    }
}

/// <summary>Format / template: a postscript starting with P.S. (IFEval <c>detectable_content:postscript</c>).</summary>
public sealed class PostscriptConstraint(Random rng) : Constraint(rng.Pick(Templates))
{
    public static readonly ConstraintKind KindInfo = new("postscript", ConstraintFamily.Format, "template", "detectable_content:postscript", 33);
    private static readonly string[] Templates =
        ["End with a postscript starting with P.S.", "Finish with a note that begins with P.S.", "Add a P.S. line after the main text."];

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["postscript_marker"] = "P.S." };
    public override string Label => "a postscript starting with P.S.";
    public override string FixHint => "add a P.S. line at the end";

    public override string Evidence(string response)
    {
        var line = response.Split('\n').FirstOrDefault(TextEdit.IsPostscriptLine);
        return line is null ? "postscript: none" : $"postscript: {Shorten(line.Trim().Trim('"'))}";
    }

    public override string Fix(string response, EditContext context) =>
        TextEdit.InsideQuotes(response, inner => inner.TrimEnd() + "\n" + context.Rng.Pick(Lexicon.Postscripts));

    public override string? Break(string response, EditContext context)
    {
        var lines = response.Split('\n').ToList();
        var i = lines.FindIndex(TextEdit.IsPostscriptLine);
        if (i <= 0)
        {
            return null;
        }
        var quotedEnd = lines[i].TrimEnd().EndsWith('"');
        lines.RemoveAt(i);
        var text = string.Join("\n", lines);
        return quotedEnd ? text.TrimEnd() + "\"" : text;
    }

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..24] + "...";
}

/// <summary>Format / text format: exactly N markdown bullets (IFEval <c>detectable_format:number_bullet_lists</c>).</summary>
public sealed class BulletsConstraint(Random rng, int count) : Constraint(rng.Pick(Templates).Replace("{n}", count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
{
    public static readonly ConstraintKind KindInfo = new("bullets", ConstraintFamily.Format, "text format", "detectable_format:number_bullet_lists", 21);
    private static readonly string[] Templates =
        ["Use exactly {n} bullet points, like: - item.", "Format the answer as exactly {n} bullet points starting with -.", "Answer with {n} bullet points, no more and no less."];

    public int Count { get; } = count;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["num_bullets"] = Count };
    public override string Label => $"exactly {Count} bullets";
    public override string FixHint => $"make it exactly {Count} bullet lines";
    public override ContentPlan Shape(ContentPlan plan) => plan with { Bullets = true };

    public override string Evidence(string response) =>
        $"bullets: {response.Split('\n').Count(TextEdit.IsBulletLine)}; required: {Count}";

    public override string Fix(string response, EditContext context)
    {
        var lines = response.Split('\n').ToList();
        var bullets = lines.Select((l, i) => (l, i)).Where(x => TextEdit.IsBulletLine(x.l)).Select(x => x.i).ToList();
        while (bullets.Count > Count)
        {
            lines.RemoveAt(bullets[^1]);
            bullets.RemoveAt(bullets.Count - 1);
        }
        var insertAt = bullets.Count > 0 ? bullets[^1] + 1 : lines.Count;
        var present = string.Join(" ", lines);
        var candidates = context.Task.Items.Concat(Lexicon.Objects)
            .Where(o => !present.Contains(o, StringComparison.OrdinalIgnoreCase)).Distinct().ToList();
        for (var k = bullets.Count; k < Count; k++)
        {
            var item = k - bullets.Count < candidates.Count ? candidates[k - bullets.Count] : context.Rng.Pick(Lexicon.Objects);
            lines.Insert(insertAt++, $"- {Lexicon.WithArticle(item)}");
        }
        return string.Join("\n", lines);
    }

    public override string? Break(string response, EditContext context)
    {
        var lines = response.Split('\n').ToList();
        var bullets = lines.Select((l, i) => (l, i)).Where(x => TextEdit.IsBulletLine(x.l)).Select(x => x.i).ToList();
        if (bullets.Count >= 2 && context.Rng.Next(2) == 0)
        {
            lines.RemoveAt(bullets[^1]);
        }
        else
        {
            var at = bullets.Count > 0 ? bullets[^1] + 1 : lines.Count;
            lines.Insert(at, $"- {Lexicon.WithArticle(context.Rng.Pick(Lexicon.Objects))}");
        }
        return string.Join("\n", lines);
    }
}

/// <summary>Format / text format: at least N <c>*highlighted*</c> parts (IFEval <c>detectable_format:number_highlighted_sections</c>).</summary>
public sealed partial class HighlightsConstraint(Random rng, int count) : Constraint(rng.Pick(count == 1 ? Singular : Plural).Replace("{n}", count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
{
    public static readonly ConstraintKind KindInfo = new("highlights", ConstraintFamily.Format, "text format", "detectable_format:number_highlighted_sections", 40);
    private static readonly string[] Singular = ["Highlight at least one word, like *word*.", "Mark at least one word with asterisks, like *this*."];
    private static readonly string[] Plural = ["Highlight at least {n} words, like *word*.", "Mark at least {n} words with asterisks, like *this*."];

    [GeneratedRegex(@"\*[^\n\*]+\*")]
    private static partial Regex Highlight();

    public int Count { get; } = count;
    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["num_highlights"] = Count };
    public override string Label => $"at least {Count} highlighted";
    public override string FixHint => $"highlight {Count} words with *";

    public override string Evidence(string response)
    {
        var found = Highlight().Matches(response).Select(m => m.Value).Take(4).ToList();
        return $"highlighted: {(found.Count == 0 ? "none" : string.Join(" ", found))}; required: {Count}";
    }

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        var need = Count - Highlight().Matches(text).Count;
        // Never the first word of a line: a line starting with "*" would count as a bullet.
        var candidates = Candidates(text, context.ProtectedSentences).ToList();
        // From the end backwards, so the positions of earlier candidates stay valid.
        for (var k = candidates.Count - 1; k >= 0 && need > 0; k--, need--)
        {
            var (start, word) = candidates[k];
            text = text[..start] + "*" + word + "*" + text[(start + word.Length)..];
        }
        return text;
    }

    public override string? Break(string response, EditContext context)
    {
        var matches = Highlight().Matches(response).ToList();
        if (matches.Count == 0)
        {
            return null;
        }
        var text = response;
        // Unwrap from the end so earlier indices stay valid, until fewer than Count remain.
        for (var k = matches.Count - 1; k >= 0 && k >= Count - 1; k--)
        {
            var m = matches[k];
            text = text[..m.Index] + m.Value[1..^1] + text[(m.Index + m.Length)..];
        }
        return text;
    }

    private static IEnumerable<(int Start, string Word)> Candidates(string text, IReadOnlyList<string> protectedSentences)
    {
        var blocked = protectedSentences
            .Select(p => (Start: text.IndexOf(TextEdit.Clean(p), StringComparison.OrdinalIgnoreCase), p.Length))
            .Where(r => r.Start >= 0).ToList();
        foreach (var (start, word) in TextEdit.Words(text))
        {
            if (blocked.Any(r => start >= r.Start && start < r.Start + r.Length))
            {
                continue;
            }
            var lineStart = text.LastIndexOf('\n', Math.Max(0, start - 1)) + 1;
            var before = text[lineStart..start];
            if (word.Length >= 3 && !Lexicon.FunctionWords.Contains(word) && before.Any(char.IsLetter) && !text[..start].EndsWith('*') && !before.Contains("<<") && !before.Contains("P.S", StringComparison.OrdinalIgnoreCase))
            {
                yield return (start, word);
            }
        }
    }
}

/// <summary>Format / length: a sentence count with a small bound (IFEval <c>length_constraints:number_sentences</c>).</summary>
public sealed class SentencesConstraint : Constraint
{
    public static readonly ConstraintKind KindInfo = new("sentences", ConstraintFamily.Format, "length", "length_constraints:number_sentences", 20);
    private static readonly string[] LessTemplates = ["Use fewer than {n} sentences.", "Keep it under {n} sentences.", "Write less than {n} sentences."];
    private static readonly string[] AtLeastTemplates = ["Write at least {n} sentences.", "Use {n} or more sentences.", "Have at least {n} sentences."];

    public SentencesConstraint(Random rng, int bound, bool lessThan)
        : base(rng.Pick(lessThan ? LessTemplates : AtLeastTemplates).Replace("{n}", bound.ToString(System.Globalization.CultureInfo.InvariantCulture)))
    {
        Bound = bound;
        LessThan = lessThan;
    }

    public int Bound { get; }

    /// <summary>True for IFEval's relation "less than", false for "at least".</summary>
    public bool LessThan { get; }

    public override ConstraintKind Kind => KindInfo;
    public override JsonObject Kwargs() => new() { ["num_sentences"] = Bound, ["relation"] = LessThan ? "less than" : "at least" };
    public override string Label => LessThan ? $"fewer than {Bound} sentences" : $"at least {Bound} sentences";
    public override string FixHint => LessThan ? "remove a sentence" : "add a sentence";
    public override ContentPlan Shape(ContentPlan plan) => plan with { Sentences = LessThan ? Bound - 1 : Bound };

    public override string Evidence(string response) =>
        $"sentences: {TextEdit.BodySentences(response).Count}; required: {(LessThan ? "less than" : "at least")} {Bound}";

    public override string Fix(string response, EditContext context)
    {
        var text = response;
        for (var guard = 0; guard < 6; guard++)
        {
            var sentences = TextEdit.BodySentences(text);
            if (LessThan ? sentences.Count < Bound : sentences.Count >= Bound)
            {
                break;
            }
            if (LessThan)
            {
                var removable = sentences.Where(s => !context.ProtectedSentences.Any(p => TextEdit.SameSentence(p, s.Of(text)))).ToList();
                if (removable.Count == 0)
                {
                    break;
                }
                // Drop a middle sentence: openings and endings carry other constraints more often.
                text = TextEdit.RemoveSentence(text, removable[removable.Count / 2]);
            }
            else
            {
                var anchor = sentences.Count > 0 ? sentences[0] : new SentenceSpan(0, text.Length, 0);
                var filler = Filler(context);
                text = sentences.Count > 0 ? text[..anchor.End] + " " + filler + text[anchor.End..] : (text + " " + filler).Trim();
            }
        }
        return text;
    }

    public override string? Break(string response, EditContext context)
    {
        var sentences = TextEdit.BodySentences(response);
        if (sentences.Count == 0)
        {
            return null;
        }
        var text = response;
        if (LessThan)
        {
            var anchor = sentences[0];
            for (var k = sentences.Count; k < Bound; k++)
            {
                text = text[..anchor.End] + " " + Filler(context) + text[anchor.End..];
            }
            return text;
        }
        var removable = sentences.Where(s => !context.ProtectedSentences.Any(p => TextEdit.SameSentence(p, s.Of(response)))).ToList();
        if (sentences.Count - removable.Count >= Bound)
        {
            return null;
        }
        while (TextEdit.BodySentences(text).Count >= Bound)
        {
            var current = TextEdit.BodySentences(text).Where(s => !context.ProtectedSentences.Any(p => TextEdit.SameSentence(p, s.Of(text)))).ToList();
            if (current.Count == 0)
            {
                return null;
            }
            text = TextEdit.RemoveSentence(text, current[^1]);
        }
        return text;
    }

    private static string Filler(EditContext context)
    {
        var t = context.Task;
        string[] fillers = [$"The {t.Place} was calm.", "It was a long day.", $"The {t.Animal} smiled.", "Nobody said a word.", $"The {t.Object} was safe."];
        return context.Rng.Pick(fillers);
    }
}
