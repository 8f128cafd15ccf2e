using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.Core.Errors;

namespace SparOrleans.Verifiers.IfEval;

/// <summary>IFEval's comparison relations: <c>"less than"</c> (actual &lt; n) and <c>"at least"</c> (actual &gt;= n).</summary>
public enum Relation
{
    LessThan,
    AtLeast,
}

/// <summary>Typed reads of an instruction's kwargs. Null and absent values are unset; a missing required kwarg or a
/// value of the wrong type is a user error naming the instruction and the kwarg.</summary>
internal static class Kwargs
{
    public const string LessThan = "less than";
    public const string AtLeast = "at least";

    public static bool Compare(this Relation relation, int actual, int threshold) =>
        relation == Relation.LessThan ? actual < threshold : actual >= threshold;

    public static JsonNode? Find(JsonObject kwargs, string name) =>
        kwargs.TryGetPropertyValue(name, out var node) ? node : null;

    public static int Int(JsonObject kwargs, string id, string name)
    {
        var node = Find(kwargs, name) ?? throw Missing(id, name);
        if (node is JsonValue v)
        {
            if (v.TryGetValue<int>(out var i))
            {
                return i;
            }
            if (v.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue)
            {
                return (int)l;
            }
            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
            {
                return (int)d;
            }
            if (v.GetValueKind() == JsonValueKind.Number && int.TryParse(v.ToJsonString(), out var parsed))
            {
                return parsed;
            }
        }
        throw new UserInputException($"instruction {id}: kwarg '{name}' must be an integer, got {node.ToJsonString()}");
    }

    public static string Str(JsonObject kwargs, string id, string name)
    {
        var node = Find(kwargs, name) ?? throw Missing(id, name);
        return node is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new UserInputException($"instruction {id}: kwarg '{name}' must be a string, got {node.ToJsonString()}");
    }

    public static IReadOnlyList<string> StrList(JsonObject kwargs, string id, string name)
    {
        var node = Find(kwargs, name) ?? throw Missing(id, name);
        if (node is JsonArray array)
        {
            var list = new List<string>(array.Count);
            foreach (var item in array)
            {
                if (item is JsonValue v && v.TryGetValue<string>(out var s))
                {
                    list.Add(s);
                }
                else
                {
                    throw new UserInputException($"instruction {id}: kwarg '{name}' must be a list of strings, got {node.ToJsonString()}");
                }
            }
            return list;
        }
        throw new UserInputException($"instruction {id}: kwarg '{name}' must be a list of strings, got {node.ToJsonString()}");
    }

    public static Relation Rel(JsonObject kwargs, string id, string name) => Str(kwargs, id, name) switch
    {
        LessThan => Relation.LessThan,
        AtLeast => Relation.AtLeast,
        var other => throw new UserInputException(
            $"instruction {id}: kwarg '{name}' must be \"{LessThan}\" or \"{AtLeast}\", got \"{other}\""),
    };

    private static UserInputException Missing(string id, string name) =>
        new($"instruction {id}: kwarg '{name}' is required but missing or null");

    private static readonly ConcurrentDictionary<(string Pattern, RegexOptions Options), Regex> Patterns = new();

    /// <summary>A regex built from a kwarg (IFEval feeds keywords to <c>re</c> unescaped), cached for hot loops.</summary>
    public static Regex Pattern(string pattern, RegexOptions options, string id)
    {
        var key = (pattern, options | RegexOptions.CultureInvariant);
        if (Patterns.TryGetValue(key, out var cached))
        {
            return cached;
        }
        if (Patterns.Count > 4096)
        {
            Patterns.Clear();
        }
        try
        {
            return Patterns.GetOrAdd(key, k => new Regex(k.Pattern, k.Options));
        }
        catch (ArgumentException e)
        {
            throw new UserInputException($"instruction {id}: '{pattern}' is not a valid regular expression ({e.Message})");
        }
    }
}
