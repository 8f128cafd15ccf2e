using System.Text.Json.Serialization;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Export;

/// <summary>
/// TRL's conversational layouts (huggingface.co/docs/trl/dataset_formats). DPO: the "conversational preference"
/// type <c>{"prompt":[{"role","content"}...],"chosen":[{"role":"assistant",...}],"rejected":[...]}</c>; SFT/RFT:
/// the "conversational language modeling" type <c>{"messages":[{"role","content"}...]}</c>. Message lists, not
/// strings, because TRL's <c>maybe_apply_chat_template</c> applies the model's chat template only to rows that
/// <c>is_conversational</c> recognises: with plain strings DPOTrainer tokenizes the raw text with no template.
/// </summary>
public static class TrlJsonl
{
    public sealed record DpoRow(
        [property: JsonPropertyName("prompt")] IReadOnlyList<MessageRow>? Prompt,
        [property: JsonPropertyName("chosen")] IReadOnlyList<MessageRow>? Chosen,
        [property: JsonPropertyName("rejected")] IReadOnlyList<MessageRow>? Rejected);

    public sealed record MessageRow(
        [property: JsonPropertyName("role")] string? Role,
        [property: JsonPropertyName("content")] string? Content);

    public sealed record SftRow([property: JsonPropertyName("messages")] IReadOnlyList<MessageRow>? Messages);

    public static void WriteDpo(string path, IEnumerable<ChatPreference> pairs) =>
        JsonlFile.Write(path, pairs.Select(p => new DpoRow(
            p.Prompt.Select(ToRow).ToList(),
            [new(ChatMessage.Assistant, p.Chosen)],
            [new(ChatMessage.Assistant, p.Rejected)])));

    public static IReadOnlyList<ChatPreference> ReadDpo(string path) =>
        JsonlFile.Read<DpoRow>(path, DpoProblem)
            .Select(r => new ChatPreference(r.Prompt!.Select(FromRow).ToList(), r.Chosen![0].Content!, r.Rejected![0].Content!)).ToList();

    public static void WriteSft(string path, IEnumerable<IReadOnlyList<ChatMessage>> conversations) =>
        JsonlFile.Write(path, conversations.Select(ToRow));

    public static IReadOnlyList<IReadOnlyList<ChatMessage>> ReadSft(string path) =>
        JsonlFile.Read<SftRow>(path, MessagesProblem).Select(FromRow).ToList();

    internal static SftRow ToRow(IReadOnlyList<ChatMessage> messages) => new(messages.Select(ToRow).ToList());

    internal static MessageRow ToRow(ChatMessage message) => new(message.Role, message.Content);

    internal static ChatMessage FromRow(MessageRow row) => new(row.Role!, row.Content!);

    internal static IReadOnlyList<ChatMessage> FromRow(SftRow row) => row.Messages!.Select(FromRow).ToList();

    internal static string? MessagesProblem(SftRow row) => MessagesProblem(row.Messages);

    internal static string? MessagesProblem(IReadOnlyList<MessageRow>? messages) =>
        messages is not { Count: > 0 } ? "needs a non-empty messages list"
        : messages.Any(m => m.Role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant) || m.Content is null)
            ? "every message needs a role (system, user or assistant) and a content"
            : null;

    // TRL's maybe_apply_chat_template adds the generation prompt after a prompt that ends with a user turn; one
    // assistant turn per answer is what DPO's prompt + chosen / prompt + rejected concatenation expects.
    private static string? DpoProblem(DpoRow row) =>
        MessagesProblem(row.Prompt) is { } problem ? $"prompt {problem}"
        : row.Prompt![^1].Role != ChatMessage.User ? "prompt must end with a user turn"
        : row.Chosen is not [{ Role: ChatMessage.Assistant, Content: not null }] || row.Rejected is not [{ Role: ChatMessage.Assistant, Content: not null }]
            ? "chosen and rejected must each be one assistant turn"
            : null;
}
