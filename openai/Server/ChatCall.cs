using System.Text;
using System.Text.Json;
using SparOrleans.Core.Formats;

namespace SparOrleans.OpenAi.Server;

/// <summary>A checked <c>/v1/chat/completions</c> body. Defaults are OpenAI's: temperature 1, top_p 1, n 1.</summary>
public sealed record ChatCall(string Model, IReadOnlyList<ChatMessage> Messages)
{
    public const int MaxChoices = 128;

    public double Temperature { get; init; } = 1;

    public double TopP { get; init; } = 1;

    public int? MaxTokens { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    public int N { get; init; } = 1;

    public bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    /// <summary>
    /// Reads the body field by field so that each error names the parameter to fix, as OpenAI's <c>param</c> does.
    /// Fields this server does not act on (logprobs, tools, ...) are refused when set rather than silently ignored.
    /// </summary>
    public static ChatCall Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw OpenAiException.BadRequest("The request body must be a JSON object.");
        }
        foreach (var property in body.EnumerateObject())
        {
            if (!Known.Contains(property.Name) && property.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.False))
            {
                throw OpenAiException.BadRequest($"'{property.Name}' is not supported by this server.", property.Name);
            }
        }
        foreach (var penalty in new[] { "frequency_penalty", "presence_penalty" })
        {
            if (Number(body, penalty, 0, -2, 2) != 0)
            {
                throw OpenAiException.BadRequest($"'{penalty}' is not supported by this server (only 0).", penalty);
            }
        }
        var model = body.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && m.GetString()!.Length > 0
            ? m.GetString()!
            : throw OpenAiException.BadRequest("'model' is required: a string naming a served model (GET /v1/models lists them).", "model");
        var call = new ChatCall(model, ReadMessages(body))
        {
            Temperature = Number(body, "temperature", 1, 0, 10),
            TopP = Number(body, "top_p", 1, double.Epsilon, 1),
            MaxTokens = Integer(body, "max_completion_tokens") ?? Integer(body, "max_tokens"),
            Seed = body.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null
                ? s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var seed) ? seed : throw OpenAiException.BadRequest("'seed' must be an integer.", "seed")
                : null,
            Stop = ReadStop(body),
            N = Integer(body, "n") ?? 1,
            Stream = body.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True,
            IncludeUsage = body.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
                && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True,
        };
        if (call.MaxTokens is < 1)
        {
            throw OpenAiException.BadRequest($"'max_tokens' must be at least 1 (got {call.MaxTokens}).", "max_tokens");
        }
        if (call.N is < 1 or > MaxChoices)
        {
            throw OpenAiException.BadRequest($"'n' must be between 1 and {MaxChoices} (got {call.N}).", "n");
        }
        return call;
    }

    private static readonly HashSet<string> Known =
    [
        "model", "messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "stop", "n", "stream", "stream_options",
        // Accepted: "user" has no meaning here; the penalties only as 0 (checked in Parse).
        "user", "frequency_penalty", "presence_penalty",
    ];

    private static List<ChatMessage> ReadMessages(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw OpenAiException.BadRequest("'messages' is required: a non-empty array of {\"role\", \"content\"} objects.", "messages");
        }
        var chat = new List<ChatMessage>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw OpenAiException.BadRequest($"{param} must be an object.", param);
            }
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : null;
            // "developer" is OpenAI's newer name for the system role.
            role = role == "developer" ? ChatMessage.System : role;
            if (role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant))
            {
                throw OpenAiException.BadRequest($"{param}.role must be system, user or assistant (got {(role is null ? "none" : $"'{role}'")}).", $"{param}.role");
            }
            chat.Add(new ChatMessage(role, Content(message, $"{param}.content")));
            index++;
        }
        return chat;
    }

    /// <summary>A string, or OpenAI's array of content parts of which only text parts can be served by a text model.</summary>
    private static string Content(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            throw OpenAiException.BadRequest($"{param} is required.", param);
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw OpenAiException.BadRequest($"{param} must be a string or an array of text parts.", param);
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
            {
                throw OpenAiException.BadRequest($"{param}: only {{\"type\": \"text\", \"text\": ...}} parts are supported by a text model.", param);
            }
            text.Append(t.GetString());
        }
        return text.ToString();
    }

    private static double Number(JsonElement body, string name, double fallback, double min, double max)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw OpenAiException.BadRequest($"'{name}' must be a number.", name);
        }
        var x = value.GetDouble();
        return x >= min && x <= max
            ? x
            : throw OpenAiException.BadRequest(min == double.Epsilon ? $"'{name}' must be in (0, {max}] (got {x})." : $"'{name}' must be between {min} and {max} (got {x}).", name);
    }

    private static int? Integer(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n
        : throw OpenAiException.BadRequest($"'{name}' must be an integer.", name);

    private static List<string> ReadStop(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        List<string> list = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(e => e.GetString()!)],
            _ => throw OpenAiException.BadRequest("'stop' must be a string or an array of strings.", "stop"),
        };
        return list.Any(s => s.Length == 0) ? throw OpenAiException.BadRequest("'stop' strings must not be empty.", "stop") : list;
    }
}
