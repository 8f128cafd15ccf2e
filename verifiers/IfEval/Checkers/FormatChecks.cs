using System.Text.RegularExpressions;
using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.IfEval.Checkers;

/// <summary><c>detectable_format:*</c> and <c>detectable_content:*</c> checks.</summary>
internal static partial class FormatChecks
{
    public const string NumberPlaceholders = "detectable_content:number_placeholders";
    public const string Postscript = "detectable_content:postscript";
    public const string NumberBulletLists = "detectable_format:number_bullet_lists";
    public const string ConstrainedResponse = "detectable_format:constrained_response";
    public const string NumberHighlightedSections = "detectable_format:number_highlighted_sections";
    public const string MultipleSections = "detectable_format:multiple_sections";
    public const string JsonFormat = "detectable_format:json_format";
    public const string Title = "detectable_format:title";

    [GeneratedRegex(@"\[.*?\]")] private static partial Regex PlaceholderRegex();
    [GeneratedRegex(@"^\s*\*[^\*].*$", RegexOptions.Multiline)] private static partial Regex StarBulletRegex();
    [GeneratedRegex(@"^\s*-.*$", RegexOptions.Multiline)] private static partial Regex DashBulletRegex();
    [GeneratedRegex(@"\*[^\n\*]*\*")] private static partial Regex HighlightRegex();
    [GeneratedRegex(@"\*\*[^\n\*]*\*\*")] private static partial Regex DoubleHighlightRegex();
    [GeneratedRegex(@"<<[^\n]+>>")] private static partial Regex TitleRegex();
    [GeneratedRegex(@"\s*p\.\s?p\.\s?s.*$", RegexOptions.Multiline)] private static partial Regex PpsRegex();
    [GeneratedRegex(@"\s*p\.\s?s\..*$", RegexOptions.Multiline)] private static partial Regex PsRegex();

    private static readonly Regex Placeholder = PlaceholderRegex();
    private static readonly Regex StarBullet = StarBulletRegex();
    private static readonly Regex DashBullet = DashBulletRegex();
    private static readonly Regex Highlight = HighlightRegex();
    private static readonly Regex DoubleHighlight = DoubleHighlightRegex();
    private static readonly Regex TitlePattern = TitleRegex();
    private static readonly Regex PpsMarker = PpsRegex();
    private static readonly Regex PsMarker = PsRegex();
    private static readonly string[] ConstrainedOptions = ["My answer is yes.", "My answer is no.", "My answer is maybe."];

    public static IEnumerable<InstructionChecker> All() =>
    [
        new(NumberPlaceholders, ["num_placeholders"], (r, k) =>
            Placeholder.Count(r) >= Kwargs.Int(k, NumberPlaceholders, "num_placeholders")),
        new(Postscript, ["postscript_marker"], (r, k) =>
        {
            var marker = PyText.Strip(Kwargs.Str(k, Postscript, "postscript_marker"));
            var pattern = marker switch
            {
                "P.P.S" => PpsMarker,
                "P.S." => PsMarker,
                _ => Kwargs.Pattern(@"\s*" + PyText.Lower(marker) + ".*$", RegexOptions.Multiline, Postscript),
            };
            return pattern.IsMatch(PyText.Lower(r));
        }),
        new(NumberBulletLists, ["num_bullets"], (r, k) =>
            StarBullet.Count(r) + DashBullet.Count(r) == Kwargs.Int(k, NumberBulletLists, "num_bullets")),
        new(ConstrainedResponse, [], (r, _) =>
        {
            var value = PyText.Strip(r);
            foreach (var option in ConstrainedOptions)
            {
                if (value.Contains(option, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }),
        new(NumberHighlightedSections, ["num_highlights"], (r, k) =>
        {
            int count = 0;
            for (var m = Highlight.Match(r); m.Success; m = m.NextMatch())
            {
                count += PyText.IsBlank(m.Value.Trim('*')) ? 0 : 1;
            }
            for (var m = DoubleHighlight.Match(r); m.Success; m = m.NextMatch())
            {
                count += PyText.IsBlank(m.Value[2..^2]) ? 0 : 1;
            }
            return count >= Kwargs.Int(k, NumberHighlightedSections, "num_highlights");
        }),
        new(MultipleSections, ["section_spliter", "num_sections"], (r, k) =>
        {
            var spliter = PyText.Strip(Kwargs.Str(k, MultipleSections, "section_spliter"));
            var sections = Kwargs.Pattern(@"\s?" + spliter + @"\s?\d+\s?", RegexOptions.None, MultipleSections).Split(r);
            return sections.Length - 1 >= Kwargs.Int(k, MultipleSections, "num_sections");
        }),
        new(JsonFormat, [], (r, _) => PyJson.IsValid(StripCodeFence(r))),
        new(Title, [], (r, _) =>
        {
            for (var m = TitlePattern.Match(r); m.Success; m = m.NextMatch())
            {
                if (!PyText.IsBlank(m.Value.TrimStart('<').TrimEnd('>')))
                {
                    return true;
                }
            }
            return false;
        }),
    ];

    /// <summary>IFEval's json_format preprocessing: strip, drop one leading fence form and one trailing fence, strip.</summary>
    internal static string StripCodeFence(string response)
    {
        var value = PyText.Strip(response);
        foreach (var prefix in (string[])["```json", "```Json", "```JSON", "```"])
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal))
            {
                value = value[prefix.Length..];
            }
        }
        if (value.EndsWith("```", StringComparison.Ordinal))
        {
            value = value[..^3];
        }
        return PyText.Strip(value);
    }
}
