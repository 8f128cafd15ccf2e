using System.Text;
using System.Text.RegularExpressions;

namespace SparOrleans.Core.Text;

/// <summary>What a segment of a <see cref="WordDiff"/> is: text both sides share, text only the old side has, or
/// text only the new side has.</summary>
public enum DiffKind
{
    Equal,
    Deleted,
    Inserted,
}

/// <summary>One run of text of a single <see cref="DiffKind"/>, whitespace included.</summary>
public sealed record DiffSegment(DiffKind Kind, string Text);

/// <summary>
/// Word-by-word difference of two texts (a refinement and its parent), so the minimal edits a refiner makes are
/// visible. Texts are split into words and whitespace runs; the longest common subsequence of those tokens is kept;
/// a single space between two edits is folded into them, so a changed phrase reads as one edit, not word salad.
/// Invariant: the Equal and Deleted segments concatenate to the old text, the Equal and Inserted ones to the new.
/// </summary>
public static partial class WordDiff
{
    /// <summary>Above this many token pairs (after trimming the common prefix and suffix) the middle is reported as
    /// one deletion and one insertion rather than diffed: the table would cost too much memory.</summary>
    public const long MaxTablePairs = 16_000_000;

    /// <summary>The segments turning <paramref name="before"/> into <paramref name="after"/>, adjacent segments of
    /// one kind merged, a deletion always before the insertion that replaces it.</summary>
    public static IReadOnlyList<DiffSegment> Compute(string before, string after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var a = Tokenize(before);
        var b = Tokenize(after);
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)])
        {
            suffix++;
        }
        var ops = new List<(DiffKind Kind, string Token)>(a.Length + b.Length);
        ops.AddRange(a.Take(prefix).Select(t => (DiffKind.Equal, t)));
        ops.AddRange(Middle(a[prefix..^suffix], b[prefix..^suffix]));
        ops.AddRange(a.Skip(a.Length - suffix).Select(t => (DiffKind.Equal, t)));
        return Merge(FoldLoneWhitespace(ops));
    }

    /// <summary>Plain-text rendering in git's word-diff style: <c>[-old-]{+new+}</c> around the edits.</summary>
    public static string ToMarkers(IReadOnlyList<DiffSegment> segments)
    {
        var text = new StringBuilder();
        foreach (var segment in segments)
        {
            text.Append(segment.Kind switch
            {
                DiffKind.Deleted => $"[-{segment.Text}-]",
                DiffKind.Inserted => $"{{+{segment.Text}+}}",
                _ => segment.Text,
            });
        }
        return text.ToString();
    }

    /// <summary>Words deleted plus words inserted (the size of the edit).</summary>
    public static int ChangedWords(IReadOnlyList<DiffSegment> segments) =>
        segments.Where(s => s.Kind != DiffKind.Equal).Sum(s => Words().Count(s.Text));

    private static string[] Tokenize(string text) => [.. Tokens().Matches(text).Select(m => m.Value)];

    private static IEnumerable<(DiffKind, string)> Middle(string[] a, string[] b)
    {
        if ((long)a.Length * b.Length > MaxTablePairs)
        {
            return a.Select(t => (DiffKind.Deleted, t)).Concat(b.Select(t => (DiffKind.Inserted, t)));
        }
        // lcs[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        var width = b.Length + 1;
        var lcs = new int[(a.Length + 1) * width];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i * width + j] = a[i] == b[j]
                    ? lcs[(i + 1) * width + j + 1] + 1
                    : Math.Max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
            }
        }
        var ops = new List<(DiffKind, string)>();
        int x = 0, y = 0;
        while (x < a.Length && y < b.Length)
        {
            if (a[x] == b[y])
            {
                ops.Add((DiffKind.Equal, a[x++]));
                y++;
            }
            else if (lcs[(x + 1) * width + y] >= lcs[x * width + y + 1])
            {
                ops.Add((DiffKind.Deleted, a[x++]));
            }
            else
            {
                ops.Add((DiffKind.Inserted, b[y++]));
            }
        }
        ops.AddRange(a.Skip(x).Select(t => (DiffKind.Deleted, t)));
        ops.AddRange(b.Skip(y).Select(t => (DiffKind.Inserted, t)));
        return ops;
    }

    private static List<(DiffKind Kind, string Token)> FoldLoneWhitespace(List<(DiffKind Kind, string Token)> ops)
    {
        for (var i = 1; i < ops.Count - 1; i++)
        {
            if (ops[i].Kind == DiffKind.Equal && string.IsNullOrWhiteSpace(ops[i].Token)
                && ops[i - 1].Kind != DiffKind.Equal && ops[i + 1].Kind != DiffKind.Equal)
            {
                ops[i] = (DiffKind.Deleted, ops[i].Token);
                ops.Insert(i + 1, (DiffKind.Inserted, ops[i].Token));
                i++;
            }
        }
        return ops;
    }

    private static List<DiffSegment> Merge(List<(DiffKind Kind, string Token)> ops)
    {
        var segments = new List<DiffSegment>();
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == DiffKind.Equal)
            {
                var equal = new StringBuilder();
                while (i < ops.Count && ops[i].Kind == DiffKind.Equal)
                {
                    equal.Append(ops[i++].Token);
                }
                segments.Add(new DiffSegment(DiffKind.Equal, equal.ToString()));
                continue;
            }
            // A run of edits: all its deletions read as one, then all its insertions.
            var deleted = new StringBuilder();
            var inserted = new StringBuilder();
            while (i < ops.Count && ops[i].Kind != DiffKind.Equal)
            {
                (ops[i].Kind == DiffKind.Deleted ? deleted : inserted).Append(ops[i++].Token);
            }
            if (deleted.Length > 0)
            {
                segments.Add(new DiffSegment(DiffKind.Deleted, deleted.ToString()));
            }
            if (inserted.Length > 0)
            {
                segments.Add(new DiffSegment(DiffKind.Inserted, inserted.ToString()));
            }
        }
        return segments;
    }

    [GeneratedRegex(@"\s+|\S+")]
    private static partial Regex Tokens();

    [GeneratedRegex(@"\S+")]
    private static partial Regex Words();
}
