using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Prompts;

/// <summary>
/// One prompt of a prompt file. <see cref="KwargsJson"/> has one JSON object per instruction id (<c>{}</c> where the
/// file gave none); <see cref="Extra"/> keeps every other field as raw JSON so nothing the file carried is lost.
/// </summary>
public sealed record PromptFileEntry(
    int Line,
    string? Key,
    string Prompt,
    IReadOnlyList<string> InstructionIds,
    IReadOnlyList<string> KwargsJson,
    IReadOnlyDictionary<string, string> Extra)
{
    /// <summary>
    /// The id the prompt keeps in every iteration: from <see cref="Key"/>, else from the line, so a run resumed on the
    /// same file finds the same prompts. The prefixes keep a key "7" and line 7 apart.
    /// </summary>
    public string PromptId => Key is null ? $"line{Line}" : $"k{Key}";
}

/// <summary>
/// A JSONL prompt file: one object per line with a string <c>prompt</c>, optionally <c>key</c>,
/// <c>instruction_id_list</c> and <c>kwargs</c> (IFEval's input file is one). The whole file is checked before a run
/// starts: any bad line is a user error naming the file and line.
/// </summary>
public static class PromptFile
{
    private static readonly HashSet<string> KnownFields = ["key", "prompt", "instruction_id_list", "kwargs"];

    public static IReadOnlyList<PromptFileEntry> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"{path}: file not found.");
        }
        var entries = new List<PromptFileEntry>();
        var keyLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var entry = Parse(path, number, text);
            if (entry.Key is { } key)
            {
                if (keyLines.TryGetValue(key, out var first))
                {
                    throw new UserInputException($"{path}:{number}: key '{key}' is already used on line {first}.");
                }
                keyLines[key] = number;
            }
            entries.Add(entry);
        }
        return entries.Count > 0 ? entries : throw new UserInputException($"{path}: no prompts (the file is empty).");
    }

    /// <summary>
    /// The prompts of iteration <paramref name="iteration"/>: a shuffle of the file seeded by (seed, iteration), its
    /// first <paramref name="count"/>. A file smaller than <paramref name="count"/> gives every prompt once: a prompt
    /// twice in one iteration would be two trees under one id.
    /// </summary>
    public static IReadOnlyList<PromptFileEntry> Draw(IReadOnlyList<PromptFileEntry> entries, int seed, int iteration, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = entries.ToArray();
        // Seeded System.Random is the same sequence on every .NET version, so a resumed run replays the same prompts.
        var random = new Random(StableHash.Combine(seed, iteration));
        for (int i = order.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order.Take(Math.Min(count, order.Length)).ToList();
    }

    private static PromptFileEntry Parse(string path, int line, string text)
    {
        string Where() => $"{path}:{line}";
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(text) as JsonObject ?? throw new UserInputException($"{Where()}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{Where()}: not valid JSON ({e.Message}).", e);
        }
        var key = obj["key"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
            var other => throw new UserInputException($"{Where()}: 'key' must be a number or string, got {other.ToJsonString()}."),
        };
        if (key is not null && (key.Length == 0 || key.Contains('/')))
        {
            // Grain keys join run, iteration and prompt id with '/'.
            throw new UserInputException($"{Where()}: 'key' must be non-empty and contain no '/', got '{key}'.");
        }
        var prompt = obj["prompt"] is JsonValue pv && pv.GetValueKind() == JsonValueKind.String
            ? pv.GetValue<string>()
            : throw new UserInputException($"{Where()}: missing string field 'prompt'.");
        if (string.IsNullOrWhiteSpace(prompt))
        {
            throw new UserInputException($"{Where()}: 'prompt' is empty.");
        }
        var ids = new List<string>();
        switch (obj["instruction_id_list"])
        {
            case null:
                break;
            case JsonArray array:
                foreach (var node in array)
                {
                    ids.Add(node is JsonValue v && v.GetValueKind() == JsonValueKind.String
                        ? v.GetValue<string>()
                        : throw new UserInputException($"{Where()}: 'instruction_id_list' must hold strings, got {node?.ToJsonString() ?? "null"}."));
                }
                break;
            default:
                throw new UserInputException($"{Where()}: 'instruction_id_list' must be a list of strings.");
        }
        var kwargs = new List<string>(ids.Count);
        switch (obj["kwargs"])
        {
            case null:
                kwargs.AddRange(ids.Select(_ => "{}"));
                break;
            case JsonArray array when array.Count == ids.Count:
                foreach (var node in array)
                {
                    kwargs.Add(node is JsonObject o
                        ? o.ToJsonString()
                        : throw new UserInputException($"{Where()}: each 'kwargs' entry must be an object, got {node?.ToJsonString() ?? "null"}."));
                }
                break;
            case JsonArray array:
                throw new UserInputException($"{Where()}: 'kwargs' has {array.Count} entries but 'instruction_id_list' has {ids.Count}.");
            default:
                throw new UserInputException($"{Where()}: 'kwargs' must be a list of objects.");
        }
        var extra = obj.Where(p => !KnownFields.Contains(p.Key))
            .ToDictionary(p => p.Key, p => p.Value?.ToJsonString() ?? "null", StringComparer.Ordinal);
        return new PromptFileEntry(line, key, prompt, ids, kwargs, extra);
    }
}
