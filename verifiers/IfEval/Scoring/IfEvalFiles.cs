using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Verifiers.IfEval.Scoring;

/// <summary>
/// IFEval's files: the input JSONL (<c>key, prompt, instruction_id_list, kwargs</c>), response JSONL
/// (<c>{"prompt": .., "response": ..}</c>) and the official <c>eval_results_{strict,loose}.jsonl</c> outputs.
/// Blank lines are skipped; any other malformed line is a user error naming the file and line.
/// </summary>
public static class IfEvalFiles
{
    /// <summary>Reads an IFEval input file; unknown instruction ids and kwargs/id count mismatches are user errors.</summary>
    public static IReadOnlyList<IfEvalExample> ReadInput(string path)
    {
        var examples = new List<IfEvalExample>();
        foreach (var (line, obj) in ReadObjects(path))
        {
            string Where() => $"{path}:{line}";
            var key = obj["key"] switch
            {
                JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String => v.ToString(),
                null => line.ToString(System.Globalization.CultureInfo.InvariantCulture),
                var other => throw new UserInputException($"{Where()}: 'key' must be a number or string, got {other.ToJsonString()}"),
            };
            var prompt = RequiredString(obj, "prompt", Where);
            if (obj["instruction_id_list"] is not JsonArray idArray)
            {
                throw new UserInputException($"{Where()}: missing list field 'instruction_id_list'");
            }
            var ids = new List<string>(idArray.Count);
            foreach (var node in idArray)
            {
                var id = node is JsonValue v && v.TryGetValue<string>(out var s)
                    ? s
                    : throw new UserInputException($"{Where()}: instruction ids must be strings, got {node?.ToJsonString() ?? "null"}");
                try
                {
                    InstructionRegistry.Get(id);
                }
                catch (UserInputException e)
                {
                    throw new UserInputException($"{Where()}: {e.Message}", e);
                }
                ids.Add(id);
            }
            var kwargs = new List<JsonObject>(ids.Count);
            switch (obj["kwargs"])
            {
                case null:
                    kwargs.AddRange(ids.Select(_ => new JsonObject()));
                    break;
                case JsonArray array when array.Count == ids.Count:
                    foreach (var node in array)
                    {
                        kwargs.Add(node switch
                        {
                            null => new JsonObject(),
                            JsonObject o => WithoutNulls(o),
                            _ => throw new UserInputException($"{Where()}: each kwargs entry must be an object, got {node.ToJsonString()}"),
                        });
                    }
                    break;
                case JsonArray array:
                    throw new UserInputException(
                        $"{Where()}: 'kwargs' has {array.Count} entries but 'instruction_id_list' has {ids.Count}");
                default:
                    throw new UserInputException($"{Where()}: 'kwargs' must be a list of objects");
            }
            // Run each check once on a probe text so a bad kwarg is reported here, with its line.
            for (int i = 0; i < ids.Count; i++)
            {
                try
                {
                    InstructionRegistry.Get(ids[i]).IsFollowed("probe", kwargs[i]);
                }
                catch (UserInputException e)
                {
                    throw new UserInputException($"{Where()}: {e.Message}", e);
                }
            }
            examples.Add(new IfEvalExample(key, prompt, ids, kwargs));
        }
        if (examples.Count == 0)
        {
            throw new UserInputException($"{path}: no IFEval prompts in the file");
        }
        return examples;
    }

    /// <summary>Reads a response file into prompt → response (a repeated prompt keeps its last response, as IFEval).</summary>
    public static IReadOnlyDictionary<string, string> ReadResponses(string path)
    {
        var responses = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, obj) in ReadObjects(path))
        {
            string Where() => $"{path}:{line}";
            responses[RequiredString(obj, "prompt", Where)] = RequiredString(obj, "response", Where);
        }
        return responses;
    }

    /// <summary>Writes the official result file (one line per prompt, keys sorted, Python <c>json.dumps</c> style)
    /// through a temporary file, so a reader never sees half of it.</summary>
    public static void WriteResults(string path, IEnumerable<IfEvalPromptResult> results, bool loose)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var writer = new StreamWriter(temp, append: false, new UTF8Encoding(false)))
            {
                foreach (var r in results)
                {
                    var verdicts = loose ? r.FollowInstructionListLoose : r.FollowInstructionListStrict;
                    var sb = new StringBuilder();
                    sb.Append("{\"follow_all_instructions\": ").Append(verdicts.All(v => v) ? "true" : "false");
                    sb.Append(", \"follow_instruction_list\": [").AppendJoin(", ", verdicts.Select(v => v ? "true" : "false")).Append(']');
                    sb.Append(", \"instruction_id_list\": [").AppendJoin(", ", r.Example.InstructionIds.Select(PythonJsonString)).Append(']');
                    sb.Append(", \"prompt\": ").Append(PythonJsonString(r.Example.Prompt));
                    sb.Append(", \"response\": ").Append(PythonJsonString(r.Response)).Append('}');
                    writer.Write(sb.Append('\n').ToString());
                }
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>A JSON string as Python's <c>json.dumps</c> writes it (ASCII only, <c>\uXXXX</c> escapes).</summary>
    internal static string PythonJsonString(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static JsonObject WithoutNulls(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (name, value) in o)
        {
            if (value is not null)
            {
                copy[name] = value.DeepClone();
            }
        }
        return copy;
    }

    private static string RequiredString(JsonObject obj, string field, Func<string> where) =>
        obj[field] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new UserInputException($"{where()}: missing string field '{field}'");

    private static IEnumerable<(int Line, JsonObject Object)> ReadObjects(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"file not found: {path}");
        }
        int lineNumber = 0;
        foreach (var text in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                // System.Text.Json appends its own position (line 0 of the one-line document); report the file's.
                var detail = e.Message;
                int cut = detail.IndexOf(" LineNumber:", StringComparison.Ordinal);
                detail = cut > 0 ? detail[..cut] : detail;
                throw new UserInputException(
                    $"{path}:{lineNumber}: malformed JSON at column {(e.BytePositionInLine ?? 0) + 1} ({detail})", e);
            }
            yield return node is JsonObject obj
                ? (lineNumber, obj)
                : throw new UserInputException($"{path}:{lineNumber}: expected a JSON object");
        }
    }
}
