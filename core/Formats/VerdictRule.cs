namespace SparOrleans.Core.Formats;

/// <summary>
/// The reference's verdict rule: look at the text after the first <see cref="Anchor"/> (up to a second anchor, as
/// the reference's <c>split(anchor)[1]</c> does); neither token there → invalid; otherwise the earlier token wins.
/// Matching is case-sensitive, like the reference.
/// </summary>
/// <remarks>
/// With <see cref="WholeWords"/> (the default of both formats) a token counts only as a whole word, so "Not",
/// "Note", "None" and "Nothing" are not read as "No" and "Yesterday" is not "Yes". The reference matches raw
/// substrings, so "Final Judgement: Note that ... Yes" parses as No there; set <see cref="WholeWords"/> to false to
/// reproduce that quirk exactly.
/// </remarks>
public sealed record VerdictRule(string Anchor, string YesToken, string NoToken, bool WholeWords = true)
{
    public Verdict Parse(string judgmentText)
    {
        var start = judgmentText.IndexOf(Anchor, StringComparison.Ordinal);
        if (start < 0)
        {
            return Verdict.Invalid;
        }
        var tail = judgmentText[(start + Anchor.Length)..];
        var next = tail.IndexOf(Anchor, StringComparison.Ordinal);
        if (next >= 0)
        {
            tail = tail[..next];
        }
        var yes = Find(tail, YesToken);
        var no = Find(tail, NoToken);
        return (yes, no) switch
        {
            (< 0, < 0) => Verdict.Invalid,
            (>= 0, < 0) => Verdict.Yes,
            (< 0, >= 0) => Verdict.No,
            _ => yes < no ? Verdict.Yes : Verdict.No,
        };
    }

    private int Find(string text, string token)
    {
        for (var at = text.IndexOf(token, StringComparison.Ordinal); at >= 0; at = text.IndexOf(token, at + 1, StringComparison.Ordinal))
        {
            if (!WholeWords)
            {
                return at;
            }
            var end = at + token.Length;
            var letterBefore = at > 0 && char.IsLetter(text[at - 1]);
            var letterAfter = end < text.Length && char.IsLetter(text[end]);
            if (!letterBefore && !letterAfter)
            {
                return at;
            }
        }
        return -1;
    }
}
