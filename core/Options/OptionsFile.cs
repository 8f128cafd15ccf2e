using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Options;

/// <summary>
/// <c>spar run --options FILE</c> (and the loop experiments'): a JSON object whose properties replace the preset's (the
/// simulator's options, or a model run's settings), nested objects merged property by property (so
/// <c>{"Dpo": {"LearningRate": 1e-4}}</c> keeps the preset's other DPO settings).
/// </summary>
public static class OptionsFile
{
    // Enum options by name ("Schedule": "Cosine") as well as by number.
    private static readonly JsonSerializerOptions Json = new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static T Overlay<T>(T preset, string path) where T : class => Overlay(preset, Read(path), path);

    /// <summary>The options file as one JSON object, or a user error saying what is wrong with it.</summary>
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"Options file '{path}' does not exist.");
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new UserInputException($"Options file '{path}' must hold one JSON object.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Options file '{path}' is not valid JSON: {e.Message}");
        }
    }

    /// <param name="source">Names the overlay in errors (the file's path).</param>
    public static T Overlay<T>(T preset, JsonObject overlay, string source) where T : class
    {
        var merged = JsonSerializer.SerializeToNode(preset)!.AsObject();
        Merge(merged, overlay, typeof(T), source, "");
        try
        {
            return merged.Deserialize<T>(Json) ?? throw new UserInputException($"Options file '{source}' is empty.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Options file '{source}': {e.Message}");
        }
    }

    // Options left out of the preset's JSON (null or default, [JsonIgnore(WhenWriting...)]) are still known by the
    // type's contract, so names are checked against its properties rather than the serialized preset.
    private static void Merge(JsonObject target, JsonObject overlay, Type type, string path, string prefix)
    {
        var properties = Json.GetTypeInfo(type).Properties;
        foreach (var (name, value) in overlay)
        {
            // Matching is case-insensitive, as users write option names in several styles.
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new UserInputException($"Options file '{path}': unknown option '{prefix}{name}'.");
            var key = property.Name;
            if (value is null && target[key] is JsonObject)
            {
                throw new UserInputException($"Options file '{path}': option '{prefix}{key}' cannot be null (give an object, or leave it out to keep the default).");
            }
            if (value is JsonObject nested && target[key] is JsonObject existing)
            {
                Merge(existing, nested, property.PropertyType, path, $"{prefix}{key}.");
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }
}
