namespace SparOrleans.Core.Formats;

/// <summary>The <c>[[start]] ... [[end]]</c> markers around a refined response (both formats use them).</summary>
public static class RefinementMarkers
{
    public const string Start = "[[start]]";
    public const string End = "[[end]]";

    /// <summary>
    /// The stripped text between the first <see cref="Start"/> and the following <see cref="End"/>; null when a
    /// marker is missing or the text between them is empty (a failed generation, retried by the caller).
    /// </summary>
    public static string? Extract(string refinerOutput)
    {
        var start = refinerOutput.IndexOf(Start, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }
        var from = start + Start.Length;
        var end = refinerOutput.IndexOf(End, from, StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }
        var text = refinerOutput[from..end].Trim();
        return text.Length == 0 ? null : text;
    }
}
