using System.Text.RegularExpressions;

namespace SparOrleans.Core.Errors;

/// <summary>
/// Connection strings the user gives (<c>--redis</c>, <c>--cluster</c>, <c>--storage</c>, <c>--generation
/// openai=URL</c>) may carry credentials; every message that can echo one goes through <see cref="Redact"/>, so a
/// password never reaches a terminal, a log or a CI transcript.
/// </summary>
public static partial class Secrets
{
    public const string Mask = "***";

    /// <summary>
    /// <paramref name="text"/> with the values of <c>password=</c>, <c>AccountKey=</c>, <c>SharedAccessSignature=</c>,
    /// <c>sig=</c> and the like, and the password of a URL's <c>user:password@</c>, replaced by <see cref="Mask"/>.
    /// </summary>
    public static string Redact(string text)
    {
        text = Signature().Replace(text, m => $"{m.Groups[1].Value}{Mask}");
        text = KeyValue().Replace(text, m => $"{m.Groups[1].Value}{Mask}");
        return UserInfo().Replace(text, m => $"{m.Groups[1].Value}{Mask}@");
    }

    // A SAS in an Azure connection string is a whole query ("sv=..&sig=.."), up to the next ';'.
    [GeneratedRegex(@"\b(sharedaccesssignature\s*=\s*)[^;\s""']+", RegexOptions.IgnoreCase)]
    private static partial Regex Signature();

    // key=value up to the next separator of a connection string (',' in StackExchange.Redis, ';' in Azure, '&' in a
    // SAS query) or the end of a parenthesised echo.
    [GeneratedRegex(@"\b((?:password|pwd|accountkey|sharedaccesskey|sig|apikey|api-key|token)\s*=\s*)(?!\*\*\*)[^;,&\s""')]+", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValue();

    // scheme://user:password@host (the user is kept: it helps to see which account was used).
    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UserInfo();
}
