using System.Text;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// Python <c>str</c> semantics the official checks depend on (strip, split, isupper, islower, <c>\w</c>, <c>\b</c>),
/// so that a C# check agrees with the Python one on non-ASCII text too.
/// </summary>
public static class PyText
{
    /// <summary>Python's <c>\w</c> for str patterns: letters, all numerics (Nd, Nl, No) and underscore; no combining marks.</summary>
    public const string WordClass = @"[\p{L}\p{N}_]";

    /// <summary>Python's <c>[^\W\d]</c>: word characters that are not decimal digits.</summary>
    public const string WordNoDigitClass = @"[\p{L}\p{Nl}\p{No}_]";

    /// <summary>Python's <c>\b</c> built on <see cref="WordClass"/> (.NET's own <c>\b</c> also counts combining marks).</summary>
    public const string Boundary = @"(?:(?<=[\p{L}\p{N}_])(?![\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?=[\p{L}\p{N}_]))";

    /// <summary><see cref="Boundary"/> before <paramref name="pattern"/>: a one-sided look-behind when the pattern
    /// starts with a word character, which lets the regex engine search for the pattern's literal prefix.</summary>
    public static string BoundaryBefore(string pattern) =>
        pattern.Length > 0 && IsWordChar(pattern[0]) ? "(?<![\\p{L}\\p{N}_])" : Boundary;

    /// <summary><see cref="Boundary"/> after <paramref name="pattern"/> (one-sided when it ends with a word character
    /// that is not escaped).</summary>
    public static string BoundaryAfter(string pattern) =>
        pattern.Length > 0 && IsWordChar(pattern[^1]) && (pattern.Length < 2 || pattern[^2] != '\\')
            ? "(?![\\p{L}\\p{N}_])"
            : Boundary;

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_' ||
        char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.LetterNumber or System.Globalization.UnicodeCategory.OtherNumber;

    /// <summary>Python <c>str.isspace</c> for one char: .NET white space plus the separators U+001C..U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    /// <summary>Python <c>str.strip()</c>.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start]))
        {
            start++;
        }
        while (end > start && IsSpace(s[end - 1]))
        {
            end--;
        }
        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary>Python <c>str.rstrip()</c>.</summary>
    public static string RStrip(string s)
    {
        int end = s.Length;
        while (end > 0 && IsSpace(s[end - 1]))
        {
            end--;
        }
        return end == s.Length ? s : s[..end];
    }

    /// <summary>True when <paramref name="s"/> has no non-space character (Python <c>not s.strip()</c>).</summary>
    public static bool IsBlank(string s)
    {
        foreach (var c in s)
        {
            if (!IsSpace(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Python <c>str.split()</c> with no separator: runs of white space, no empty parts.</summary>
    public static List<string> SplitWhitespace(string s)
    {
        var parts = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i]))
            {
                i++;
            }
            int start = i;
            while (i < s.Length && !IsSpace(s[i]))
            {
                i++;
            }
            if (i > start)
            {
                parts.Add(s[start..i]);
            }
        }
        return parts;
    }

    /// <summary>Python <c>str.lower()</c>, approximated by simple invariant case mapping (see README divergences).</summary>
    public static string Lower(string s) => s.ToLowerInvariant();

    /// <summary>Python <c>str.isupper()</c>: at least one cased character and no lower- or title-case one.</summary>
    public static bool IsUpper(string s) => HasOnlyCase(s, upper: true);

    /// <summary>Python <c>str.islower()</c>: at least one cased character and no upper- or title-case one.</summary>
    public static bool IsLower(string s) => HasOnlyCase(s, upper: false);

    /// <summary>Python's <c>ch.isupper()</c> for the first code point of <paramref name="s"/>.</summary>
    public static bool FirstIsUpper(string s) => s.Length > 0 && IsUpperRune(Rune.GetRuneAt(s, 0));

    /// <summary>Python's <c>ch.islower()</c> for the first code point of <paramref name="s"/>.</summary>
    public static bool FirstIsLower(string s) => s.Length > 0 && IsLowerRune(Rune.GetRuneAt(s, 0));

    private static bool HasOnlyCase(string s, bool upper)
    {
        bool cased = false;
        foreach (var r in s.EnumerateRunes())
        {
            bool isUpper = IsUpperRune(r);
            bool isLower = IsLowerRune(r);
            bool isTitle = Rune.GetUnicodeCategory(r) == System.Globalization.UnicodeCategory.TitlecaseLetter;
            if (upper ? isLower || isTitle : isUpper || isTitle)
            {
                return false;
            }
            if (upper ? isUpper : isLower)
            {
                cased = true;
            }
        }
        return cased;
    }

    // Python uses the Unicode Uppercase/Lowercase properties, which add "Other_Uppercase/Other_Lowercase" code points
    // (circled letters, small roman numerals, modifier letters) to the Lu/Ll categories.
    internal static bool IsUpperRune(Rune r)
    {
        if (Rune.IsUpper(r))
        {
            return true;
        }
        int v = r.Value;
        return v is >= 0x2160 and <= 0x216F or >= 0x24B6 and <= 0x24CF or >= 0x1F130 and <= 0x1F149
            or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189;
    }

    private static bool IsLowerRune(Rune r)
    {
        if (Rune.IsLower(r))
        {
            return true;
        }
        int v = r.Value;
        return v is 0xAA or 0xBA or >= 0x2B0 and <= 0x2B8 or 0x2C0 or 0x2C1 or >= 0x2E0 and <= 0x2E4 or 0x345 or 0x37A
            or >= 0x1D2C and <= 0x1D6A or 0x1D78 or >= 0x1D9B and <= 0x1DBF or 0x2071 or 0x207F
            or >= 0x2090 and <= 0x209C or >= 0x2170 and <= 0x217F or >= 0x24D0 and <= 0x24E9 or 0x2C7C or 0x2C7D
            or 0xA69C or 0xA69D or 0xA770 or 0xA7F8 or 0xA7F9 or >= 0xAB5C and <= 0xAB5F;
    }
}
