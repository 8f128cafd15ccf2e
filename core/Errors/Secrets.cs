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
    public static string Redact(string text) =>
        UserInfo().Replace(KeyValue().Replace(text, m => $"{m.Groups[1].Value}{Mask}"), m => $"{m.Groups[1].Value}{Mask}@");

    // key=value up to the next separator of a connection string (',' in StackExchange.Redis, ';' in Azure, '&' in a SAS query).
    [GeneratedRegex(@"\b((?:password|pwd|accountkey|sharedaccesssignature|sharedaccesskey|sig|apikey|api-key|token)\s*=\s*)[^;,&\s""']+", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValue();

    // scheme://user:password@host (the user is kept: it helps to see which account was used).
    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UserInfo();
}
