using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Client.Runs;

/// <summary>
/// <c>spar run --options FILE</c>: a JSON object whose properties replace the preset's (the simulator's options, or a
/// model run's settings), nested objects merged property by property (so <c>{"Dpo": {"LearningRate": 1e-4}}</c> keeps
/// the preset's other DPO settings).
/// </summary>
public static class OptionsFile
{
    // Enum options by name ("Schedule": "Cosine") as well as by number.
    private static readonly JsonSerializerOptions Json = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static T Overlay<T>(T preset, string path) where T : class
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"Options file '{path}' does not exist.");
        }
        JsonObject overlay;
        try
        {
            overlay = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new UserInputException($"Options file '{path}' must hold one JSON object.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Options file '{path}' is not valid JSON: {e.Message}");
        }
        var merged = JsonSerializer.SerializeToNode(preset)!.AsObject();
        Merge(merged, overlay, path, "");
        try
        {
            return merged.Deserialize<T>(Json) ?? throw new UserInputException($"Options file '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Options file '{path}': {e.Message}");
        }
    }

    private static void Merge(JsonObject target, JsonObject overlay, string path, string prefix)
    {
        foreach (var (name, value) in overlay)
        {
            // Matching is case-insensitive, as users write option names in several styles.
            var key = target.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new UserInputException($"Options file '{path}': unknown option '{prefix}{name}'.");
            if (value is null && target[key] is JsonObject)
            {
                throw new UserInputException($"Options file '{path}': option '{prefix}{key}' cannot be null (give an object, or leave it out to keep the default).");
            }
            if (value is JsonObject nested && target[key] is JsonObject existing)
            {
                Merge(existing, nested, path, $"{prefix}{key}.");
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }
}
