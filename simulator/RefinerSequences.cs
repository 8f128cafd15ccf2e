using System.Text;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;
using SparOrleans.Engine.Training;

namespace SparOrleans.Simulator;

/// <summary>
/// Turns the refiner's chats (judgments and refinements, bootstrap and RFT alike) into training sequences. In a
/// judgment the bytes that decide it (each check's <c>ok</c>/<c>NO</c> and the final <c>yes</c>/<c>no</c>) weigh
/// <c>verdictWeight</c>: the probe found a heavier verdict weight lifted tiny models' judging and refining.
/// </summary>
public static class RefinerSequences
{
    private static readonly string[] CheckVerdicts = [" ok", " NO"];

    public static TrainingSequence Encode(IChatTemplate template, SftExample example, double verdictWeight)
    {
        var prompt = example.Messages.Take(example.Messages.Count - 1).ToList();
        var target = example.Messages[^1].Content;
        var sequence = TrainingSequence.FromChat(template, prompt, target);
        if (verdictWeight == 1 || !target.Contains(CompactFormat.VerdictAnchor, StringComparison.Ordinal))
        {
            return sequence;
        }
        var tokenizer = template.Tokenizer;
        var targetTokens = tokenizer.Encode(target);
        if (TokenEnds(tokenizer, targetTokens, Encoding.UTF8.GetByteCount(target)) is not { } ends)
        {
            return sequence;
        }
        var start = sequence.Tokens.Length - 1 - targetTokens.Count;
        foreach (var (from, length) in DecidingSpans(target))
        {
            var (first, last) = (Encoding.UTF8.GetByteCount(target.AsSpan(0, from)), Encoding.UTF8.GetByteCount(target.AsSpan(0, from + length)));
            var tokenStart = 0;
            for (var t = 0; t < ends.Length; t++)
            {
                // A token weighs when it carries any byte of the deciding word (subwords may join it to its space).
                if (ends[t] > first && tokenStart < last && start + t >= 0 && start + t < sequence.Weights.Length)
                {
                    sequence.Weights[start + t] = (float)verdictWeight;
                }
                tokenStart = ends[t];
            }
        }
        return sequence;
    }

    /// <summary>
    /// The byte offset where each token ends; null when the tokens' own texts do not add up to the target's bytes
    /// (a subword splitting a multi-byte character), so no weight lands on the wrong token.
    /// </summary>
    private static int[]? TokenEnds(ITokenizer tokenizer, IReadOnlyList<int> tokens, int targetBytes)
    {
        var ends = new int[tokens.Count];
        var at = 0;
        for (var t = 0; t < tokens.Count; t++)
        {
            at += tokenizer.Kind == "byte" ? 1 : Encoding.UTF8.GetByteCount(tokenizer.Decode([tokens[t]]));
            ends[t] = at;
        }
        return at == targetBytes ? ends : null;
    }

    /// <summary>Character spans (start, length) of the deciding words of a compact judgment, ASCII only.</summary>
    internal static IEnumerable<(int From, int Length)> DecidingSpans(string judgment)
    {
        var lineStart = 0;
        while (lineStart <= judgment.Length)
        {
            var end = judgment.IndexOf('\n', lineStart);
            var lineEnd = end < 0 ? judgment.Length : end;
            var line = judgment[lineStart..lineEnd];
            if (line.StartsWith(CompactFormat.VerdictAnchor, StringComparison.Ordinal))
            {
                var word = line[CompactFormat.VerdictAnchor.Length..].TrimStart();
                yield return (lineEnd - word.Length, word.Length);
            }
            else if (CheckVerdicts.Any(v => line.EndsWith(v, StringComparison.Ordinal)))
            {
                yield return (lineEnd - 2, 2);
            }
            if (end < 0)
            {
                break;
            }
            lineStart = end + 1;
        }
    }
}
