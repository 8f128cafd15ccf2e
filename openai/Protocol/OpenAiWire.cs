using System.Text.Json;
using System.Text.Json.Serialization;

namespace SparOrleans.OpenAi.Protocol;

/// <summary>The JSON settings of the OpenAI wire format: snake_case names, nulls left out.</summary>
public static class OpenAiJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One chat message as OpenAI writes it.</summary>
public sealed record WireMessage(string Role, string Content);

/// <summary>The body of <c>POST /v1/chat/completions</c> as this project's client sends it.</summary>
public sealed record WireChatRequest(string Model, IReadOnlyList<WireMessage> Messages)
{
    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    public int? MaxTokens { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<string>? Stop { get; init; }

    public int? N { get; init; }
}

public sealed record WireChoice(int Index, WireMessage Message, string FinishReason);

public sealed record WireUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>A whole (non-streamed) chat completion.</summary>
public sealed record WireChatCompletion(string Id, string Object, long Created, string Model, IReadOnlyList<WireChoice> Choices, WireUsage Usage);

public sealed record WireDelta(string? Role = null, string? Content = null);

public sealed record WireChunkChoice(int Index, WireDelta Delta, string? FinishReason);

/// <summary>One <c>data:</c> event of a streamed completion (<c>chat.completion.chunk</c>).</summary>
public sealed record WireChunk(string Id, string Object, long Created, string Model, IReadOnlyList<WireChunkChoice> Choices)
{
    public WireUsage? Usage { get; init; }
}

public sealed record WireModel(string Id, string Object, long Created, string OwnedBy)
{
    /// <summary>vLLM's field: the base a LoRA adapter sits on (null for a base model).</summary>
    public string? Parent { get; init; }

    /// <summary>vLLM's field: the directory the model or adapter was loaded from.</summary>
    public string? Root { get; init; }
}

public sealed record WireModelList(string Object, IReadOnlyList<WireModel> Data);

public sealed record WireLoadLora(string LoraName, string LoraPath)
{
    /// <summary>Ours, not vLLM's: which base to put the adapter on when the server holds several.</summary>
    public string? BaseModelName { get; init; }
}

public sealed record WireError(
    string Message,
    string Type,
    // OpenAI writes both as null rather than leaving them out.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed record WireErrorBody(WireError Error);
