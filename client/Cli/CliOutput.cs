using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparOrleans.Client.Cli;

/// <summary>Output conventions of every verb: machine-readable results on stdout, human text on stderr.</summary>
public static class CliOutput
{
    /// <summary>The JSON that every <c>--format json</c> prints: snake_case keys, as Python tools expect.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void WriteJson<T>(TextWriter stdout, T value) =>
        stdout.WriteLine(JsonSerializer.Serialize(value, Json));
}
