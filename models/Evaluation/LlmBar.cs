using SparOrleans.Models.Generation;
using System.Text.Json;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Options;

namespace SparOrleans.Models.Evaluation;

/// <summary>
/// One LLMBar pair: <see cref="Input"/> with two outputs, <see cref="Label"/> 1 or 2 naming the output that follows
/// the instruction. <see cref="Subset"/> is the file's name without extension (e.g. <c>Natural</c>,
/// <c>Adversarial_GPTInst</c>); <see cref="Index"/> is the pair's 0-based position in its file.
/// </summary>
public sealed record LlmBarPair(string Subset, int Index, string Input, string Output1, string Output2, int Label);

/// <summary>
/// One point-wise item: a single output judged alone. <see cref="Follows"/> is true for the pair's labelled
/// (better) output and false for the other.
/// </summary>
public sealed record LlmBarItem(string Subset, int PairIndex, int Output, string Input, string Response, bool Follows);

/// <summary>A subset's (or an average's) figures in Table 2's units: accuracy and Yes-class F1, both 0–1.</summary>
/// <param name="Items">Point-wise judgments (two per pair); for an average, the sum over its subsets.</param>
/// <param name="TooLong">Items whose prompt did not fit the model's context: counted as invalid (wrong).</param>
public sealed record LlmBarScore(string Subset, int Pairs, int Items, double Accuracy, double F1, double Precision,
    double YesRecall, double NoRecall, int Invalid, int TooLong);

/// <summary>
/// The whole LLMBar report: every subset, the average of the adversarial ones, and the overall average, as the
/// columns of the paper's Table 2. <see cref="Votes"/> 1 = greedy decoding, else majority voting@K (Table 9).
/// </summary>
public sealed record LlmBarReport(string Model, string RoleFormat, int Votes, IReadOnlyList<LlmBarScore> Subsets,
    LlmBarScore? AdversarialAverage, LlmBarScore Average, double Seconds);

/// <summary>
/// LLMBar turned point-wise, as paper §3.2 ("Refiner's Judgment and Refinement Capability") does: the pair-wise
/// task becomes "is this instruction-following task successful?" asked of each output on its own, so a pair gives
/// two judgments whose truths are Yes (the labelled output) and No (the other). Accuracy and F1 are per judgment.
/// Table 2's averages are macro averages of the subsets' figures (GPT-4o-Mini's Adversarial 65.7 = mean of 69.2,
/// 60.9, 59.8, 72.8; its overall 67.4 = mean of all five subsets), so the averages here are too.
/// </summary>
public static class LlmBar
{
    /// <summary>The prefix of the adversarial subsets' file names.</summary>
    public const string AdversarialPrefix = "Adversarial";

    /// <summary>
    /// Reads every <c>*.json</c> in <paramref name="directory"/> (sorted by name; <c>Natural</c> first as in Table 2),
    /// at most <paramref name="limit"/> pairs per file when given. Each file is a JSON array of objects with string
    /// <c>input</c>, <c>output_1</c>, <c>output_2</c> and integer <c>label</c> 1 or 2; anything else is a
    /// <see cref="UserInputException"/> naming the file and the entry.
    /// </summary>
    public static IReadOnlyList<LlmBarPair> ReadDirectory(string directory, int? limit = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new UserInputException($"no LLMBar directory {directory}.");
        }
        var files = Directory.GetFiles(directory, "*.json")
            .OrderBy(f => Path.GetFileNameWithoutExtension(f).StartsWith(AdversarialPrefix, StringComparison.Ordinal))
            .ThenBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new UserInputException($"{directory}: no LLMBar *.json files (expected e.g. Natural.json, Adversarial_GPTInst.json).");
        }
        return [.. files.SelectMany(f => ReadFile(f, limit))];
    }

    /// <summary>Reads one LLMBar file; see <see cref="ReadDirectory"/> for the format.</summary>
    public static IReadOnlyList<LlmBarPair> ReadFile(string path, int? limit = null)
    {
        var subset = Path.GetFileNameWithoutExtension(path);
        var name = Path.GetFileName(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{name}: not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new UserInputException($"{name}: expected a JSON array of pairs, got {document.RootElement.ValueKind}.");
            }
            var pairs = new List<LlmBarPair>();
            var index = 0;
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                if (limit is { } max && pairs.Count >= max)
                {
                    break;
                }
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw new UserInputException($"{name}: entry {index} is not an object.");
                }
                var label = entry.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt32(out var v) ? v : 0;
                if (label is not (1 or 2))
                {
                    throw new UserInputException($"{name}: entry {index} needs \"label\" 1 or 2.");
                }
                pairs.Add(new LlmBarPair(subset, index, Text(entry, "input", name, index), Text(entry, "output_1", name, index),
                    Text(entry, "output_2", name, index), label));
                index++;
            }
            if (pairs.Count == 0)
            {
                throw new UserInputException($"{name}: no pairs.");
            }
            return pairs;
        }
    }

    /// <summary>Each pair as its two point-wise items, output 1 then output 2.</summary>
    public static IReadOnlyList<LlmBarItem> PointWise(IReadOnlyList<LlmBarPair> pairs) =>
    [
        .. pairs.SelectMany(p => new[]
        {
            new LlmBarItem(p.Subset, p.Index, 1, p.Input, p.Output1, p.Label == 1),
            new LlmBarItem(p.Subset, p.Index, 2, p.Input, p.Output2, p.Label == 2),
        }),
    ];

    /// <summary>
    /// Scores verdicts (one per item, in order; <see cref="Verdict.Invalid"/> counts as wrong) per subset in first-seen
    /// order, then the macro averages. <paramref name="tooLong"/> marks items that were never judged.
    /// </summary>
    public static (IReadOnlyList<LlmBarScore> Subsets, LlmBarScore? Adversarial, LlmBarScore Average) Score(
        IReadOnlyList<LlmBarItem> items, IReadOnlyList<Verdict> verdicts, IReadOnlyList<bool>? tooLong = null)
    {
        if (items.Count != verdicts.Count || items.Count == 0)
        {
            throw new ArgumentException($"{items.Count} items but {verdicts.Count} verdicts", nameof(verdicts));
        }
        var subsets = items.Select((item, i) => (item, i)).GroupBy(x => x.item.Subset).Select(g =>
        {
            var s = JudgmentScoring.Score(g.Select(x => x.item.Follows).ToList(), g.Select(x => verdicts[x.i]).ToList());
            return new LlmBarScore(g.Key, g.Select(x => x.item.PairIndex).Distinct().Count(), s.Cases, s.Accuracy, s.F1,
                s.Precision, s.YesRecall, s.NoRecall, s.Invalid, g.Count(x => tooLong?[x.i] == true));
        }).ToList();
        var adversarial = subsets.Where(s => s.Subset.StartsWith(AdversarialPrefix, StringComparison.Ordinal)).ToList();
        return (subsets, adversarial.Count == 0 ? null : Mean("Adversarial average", adversarial), Mean("Average", subsets));
    }

    /// <summary>
    /// Judges every item with <paramref name="runner"/> in <paramref name="format"/>: greedy when
    /// <paramref name="votes"/> is 1, else <paramref name="votes"/> samples at temperature 0.7 (the paper's judging
    /// temperature) tallied by <see cref="MajorityVote"/> (a tie is invalid). Items whose prompt plus
    /// <paramref name="maxNewTokens"/> exceed the model's positions are not generated and count as invalid.
    /// </summary>
    public static async Task<LlmBarReport> EvaluateAsync(ModelRunner runner, string modelName, IRoleFormat format,
        IReadOnlyList<LlmBarPair> pairs, int votes, int maxNewTokens, long seed, IProgress<StepProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var items = PointWise(pairs);
        var prompts = items.Select(i => format.JudgePrompt(i.Input, i.Response)).ToList();
        var positions = runner.Model.Config.MaxPositionEmbeddings;
        var tooLong = prompts.Select(p => runner.Model.Template.Encode(p).Tokens.Length + maxNewTokens > positions).ToList();
        var fits = Enumerable.Range(0, items.Count).Where(i => !tooLong[i]).ToList();
        var voting = new VotingOptions(Samples: votes).Validated();
        var temperature = votes == 1 ? 0 : 0.7;
        var samples = await runner.GenerateAllAsync(fits.SelectMany(i => Enumerable.Repeat(prompts[i], votes)).ToList(), temperature,
            maxNewTokens, seed, progress, "llmbar-judge", cancellationToken).ConfigureAwait(false);
        var verdicts = Enumerable.Repeat(Verdict.Invalid, items.Count).ToArray();
        for (var k = 0; k < fits.Count; k++)
        {
            var vote = MajorityVote.Tally(samples.Skip(k * votes).Take(votes).ToList(), format, voting, items[fits[k]].Response);
            verdicts[fits[k]] = vote.Majority ?? Verdict.Invalid;
        }
        var (subsets, adversarial, average) = Score(items, verdicts, tooLong);
        return new LlmBarReport(modelName, format.Name, votes, subsets, adversarial, average, clock.Elapsed.TotalSeconds);
    }

    private static LlmBarScore Mean(string name, IReadOnlyList<LlmBarScore> parts) => new(
        name, parts.Sum(p => p.Pairs), parts.Sum(p => p.Items), parts.Average(p => p.Accuracy), parts.Average(p => p.F1),
        parts.Average(p => p.Precision), parts.Average(p => p.YesRecall), parts.Average(p => p.NoRecall),
        parts.Sum(p => p.Invalid), parts.Sum(p => p.TooLong));

    private static string Text(JsonElement entry, string field, string file, int index) =>
        entry.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new UserInputException($"{file}: entry {index} needs a string \"{field}\".");
}
