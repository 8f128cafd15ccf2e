using System.Text.Json.Serialization;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Export;

/// <summary>
/// LLaMA-Factory's "sharegpt" layout with OpenAI-style tags, the layout the SPaR reference scripts write. SFT/RFT:
/// <c>{"messages":[{"role","content"}...]}</c>; DPO: <c>{"messages":[{"role":"user","content":prompt}],
/// "chosen":{"role":"assistant","content":...},"rejected":{...}}</c>. Register a file in dataset_info.json with
/// <see cref="DatasetInfoEntry"/> (formatting sharegpt, tags role/content/user/assistant, ranking for DPO).
/// </summary>
public static class LlamaFactoryJsonl
{
    public sealed record DpoRow(
        [property: JsonPropertyName("messages")] IReadOnlyList<TrlJsonl.MessageRow>? Messages,
        [property: JsonPropertyName("chosen")] TrlJsonl.MessageRow? Chosen,
        [property: JsonPropertyName("rejected")] TrlJsonl.MessageRow? Rejected);

    public static void WriteSft(string path, IEnumerable<IReadOnlyList<ChatMessage>> conversations) =>
        JsonlFile.Write(path, conversations.Select(TrlJsonl.ToRow));

    public static IReadOnlyList<IReadOnlyList<ChatMessage>> ReadSft(string path) =>
        JsonlFile.Read<TrlJsonl.SftRow>(path, TrlJsonl.MessagesProblem).Select(TrlJsonl.FromRow).ToList();

    public static void WriteDpo(string path, IEnumerable<DpoPair> pairs) =>
        JsonlFile.Write(path, pairs.Select(p => new DpoRow(
            [new(ChatMessage.User, p.Prompt)],
            new(ChatMessage.Assistant, p.Chosen),
            new(ChatMessage.Assistant, p.Rejected))));

    public static IReadOnlyList<DpoPair> ReadDpo(string path) =>
        JsonlFile.Read<DpoRow>(path, r =>
                r.Messages is not [{ Role: ChatMessage.User, Content: not null }] ? "needs messages with exactly one user turn"
                : r.Chosen?.Content is null || r.Rejected?.Content is null ? "needs chosen and rejected assistant turns"
                : null)
            .Select(r => new DpoPair(r.Messages![0].Content!, r.Chosen!.Content!, r.Rejected!.Content!)).ToList();

    /// <summary>The dataset_info.json entry (a JSON object text) that makes LLaMA-Factory read a file written here.</summary>
    public static string DatasetInfoEntry(string fileName, bool ranking) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["file_name"] = fileName,
            ["formatting"] = "sharegpt",
            ["ranking"] = ranking,
            ["columns"] = ranking
                ? new Dictionary<string, string> { ["messages"] = "messages", ["chosen"] = "chosen", ["rejected"] = "rejected" }
                : new Dictionary<string, string> { ["messages"] = "messages" },
            ["tags"] = new Dictionary<string, string>
            {
                ["role_tag"] = "role", ["content_tag"] = "content", ["user_tag"] = ChatMessage.User,
                ["assistant_tag"] = ChatMessage.Assistant, ["system_tag"] = ChatMessage.System,
            },
        });
}
