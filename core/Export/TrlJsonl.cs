using System.Text.Json.Serialization;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Export;

/// <summary>
/// TRL's dataset layouts: DPO in the "standard" preference format <c>{"prompt","chosen","rejected"}</c> (plain
/// strings; TRL applies the chat template to the prompt), SFT/RFT in the conversational format
/// <c>{"messages":[{"role","content"}...]}</c>.
/// </summary>
public static class TrlJsonl
{
    public sealed record DpoRow(
        [property: JsonPropertyName("prompt")] string? Prompt,
        [property: JsonPropertyName("chosen")] string? Chosen,
        [property: JsonPropertyName("rejected")] string? Rejected);

    public sealed record MessageRow(
        [property: JsonPropertyName("role")] string? Role,
        [property: JsonPropertyName("content")] string? Content);

    public sealed record SftRow([property: JsonPropertyName("messages")] IReadOnlyList<MessageRow>? Messages);

    public static void WriteDpo(string path, IEnumerable<DpoPair> pairs) =>
        JsonlFile.Write(path, pairs.Select(p => new DpoRow(p.Prompt, p.Chosen, p.Rejected)));

    public static IReadOnlyList<DpoPair> ReadDpo(string path) =>
        JsonlFile.Read<DpoRow>(path, r => r.Prompt is null || r.Chosen is null || r.Rejected is null ? "needs string fields prompt, chosen and rejected" : null)
            .Select(r => new DpoPair(r.Prompt!, r.Chosen!, r.Rejected!)).ToList();

    public static void WriteSft(string path, IEnumerable<IReadOnlyList<ChatMessage>> conversations) =>
        JsonlFile.Write(path, conversations.Select(ToRow));

    public static IReadOnlyList<IReadOnlyList<ChatMessage>> ReadSft(string path) =>
        JsonlFile.Read<SftRow>(path, MessagesProblem).Select(FromRow).ToList();

    internal static SftRow ToRow(IReadOnlyList<ChatMessage> messages) =>
        new(messages.Select(m => new MessageRow(m.Role, m.Content)).ToList());

    internal static IReadOnlyList<ChatMessage> FromRow(SftRow row) =>
        row.Messages!.Select(m => new ChatMessage(m.Role!, m.Content!)).ToList();

    internal static string? MessagesProblem(SftRow row) =>
        row.Messages is not { Count: > 0 } ? "needs a non-empty messages list"
        : row.Messages.Any(m => m.Role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant) || m.Content is null)
            ? "every message needs a role (system, user or assistant) and a content"
            : null;
}
