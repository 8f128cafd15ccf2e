using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Export;

/// <summary>
/// LLaMA-Factory's "sharegpt" layout with OpenAI-style tags, the layout the SPaR reference scripts write. SFT/RFT:
/// <c>{"messages":[{"role","content"}...]}</c>; DPO: <c>{"messages":[prompt turns, ending with a user turn],
/// "chosen":{"role":"assistant","content":...},"rejected":{...}}</c>. LLaMA-Factory finds a file only through an
/// entry in <c>dataset_info.json</c> in its <c>dataset_dir</c>: <see cref="RegisterDataset"/> writes that entry beside
/// the data file (LLaMA-Factory's data/README.md: file_name, formatting sharegpt, ranking for preference data,
/// columns, tags).
/// </summary>
public static class LlamaFactoryJsonl
{
    /// <summary>The file LLaMA-Factory reads dataset definitions from (its DATA_CONFIG).</summary>
    public const string DatasetInfoFileName = "dataset_info.json";

    /// <summary>
    /// The extensions LLaMA-Factory's loader reads as JSON (its FILEEXT2TYPE maps both to the "json" builder); any
    /// other extension picks another builder or is refused.
    /// </summary>
    public static IReadOnlyList<string> JsonExtensions { get; } = [".jsonl", ".json"];

    public sealed record DpoRow(
        [property: JsonPropertyName("messages")] IReadOnlyList<TrlJsonl.MessageRow>? Messages,
        [property: JsonPropertyName("chosen")] TrlJsonl.MessageRow? Chosen,
        [property: JsonPropertyName("rejected")] TrlJsonl.MessageRow? Rejected);

    public static void WriteSft(string path, IEnumerable<IReadOnlyList<ChatMessage>> conversations) =>
        JsonlFile.Write(path, conversations.Select(TrlJsonl.ToRow));

    public static IReadOnlyList<IReadOnlyList<ChatMessage>> ReadSft(string path) =>
        JsonlFile.Read<TrlJsonl.SftRow>(path, TrlJsonl.MessagesProblem).Select(TrlJsonl.FromRow).ToList();

    public static void WriteDpo(string path, IEnumerable<ChatPreference> pairs) =>
        JsonlFile.Write(path, pairs.Select(p => new DpoRow(
            p.Prompt.Select(TrlJsonl.ToRow).ToList(),
            new(ChatMessage.Assistant, p.Chosen),
            new(ChatMessage.Assistant, p.Rejected))));

    public static IReadOnlyList<ChatPreference> ReadDpo(string path) =>
        JsonlFile.Read<DpoRow>(path, r =>
                TrlJsonl.MessagesProblem(r.Messages) is { } problem ? problem
                : r.Messages![^1].Role != ChatMessage.User ? "messages must end with a user turn"
                : r.Chosen is not { Role: ChatMessage.Assistant, Content: not null } || r.Rejected is not { Role: ChatMessage.Assistant, Content: not null }
                    ? "needs chosen and rejected assistant turns"
                    : null)
            .Select(r => new ChatPreference(r.Messages!.Select(TrlJsonl.FromRow).ToList(), r.Chosen!.Content!, r.Rejected!.Content!)).ToList();

    /// <summary>The dataset_info.json entry that makes LLaMA-Factory read a file written here.</summary>
    public static JsonObject DatasetInfoEntry(string fileName, bool ranking)
    {
        var columns = new JsonObject { ["messages"] = "messages" };
        if (ranking)
        {
            columns["chosen"] = "chosen";
            columns["rejected"] = "rejected";
        }
        return new JsonObject
        {
            ["file_name"] = fileName,
            ["formatting"] = "sharegpt",
            ["ranking"] = ranking,
            ["columns"] = columns,
            ["tags"] = new JsonObject
            {
                ["role_tag"] = "role",
                ["content_tag"] = "content",
                ["user_tag"] = ChatMessage.User,
                ["assistant_tag"] = ChatMessage.Assistant,
                ["system_tag"] = ChatMessage.System,
            },
        };
    }

    /// <summary>A dataset_info.json with one entry added, checked and ready to be written.</summary>
    public sealed record DatasetRegistration(string InfoPath, string Name, JsonObject Info)
    {
        /// <summary>Writes the whole dataset_info.json atomically (other entries as they were).</summary>
        public void Write() =>
            AtomicFile.WriteText(InfoPath, writer => writer.WriteLine(Info.ToJsonString(new JsonSerializerOptions(JsonlFile.Json) { WriteIndented = true })));
    }

    /// <summary>
    /// The dataset_info.json of the data file's folder with the entry <paramref name="name"/> for
    /// <paramref name="dataPath"/> added (or replaced), every other entry kept. Nothing is written yet, so a caller can
    /// check this before writing the data file and write it after.
    /// </summary>
    /// <remarks>
    /// An existing entry of that name for another file is refused rather than replaced: it describes someone else's
    /// data, and training on the wrong file under a familiar name would go unnoticed.
    /// </remarks>
    public static DatasetRegistration PrepareRegistration(string dataPath, string name, bool ranking)
    {
        var full = Path.GetFullPath(dataPath);
        var fileName = Path.GetFileName(full);
        if (!JsonExtensions.Contains(Path.GetExtension(fileName).ToLowerInvariant()))
        {
            throw new UserInputException(
                $"{full}: LLaMA-Factory reads JSON lines only from files ending in {string.Join(" or ", JsonExtensions)}; choose such a name.");
        }
        var infoPath = Path.Combine(Path.GetDirectoryName(full)!, DatasetInfoFileName);
        var info = ReadDatasetInfo(infoPath);
        if (info[name] is JsonObject existing && existing["file_name"] is JsonValue value && value.TryGetValue<string>(out var other) && other != fileName)
        {
            throw new UserInputException(
                $"{infoPath} already has a dataset '{name}' for the file '{other}'; export under another file name or remove that entry.");
        }
        info[name] = DatasetInfoEntry(fileName, ranking);
        return new DatasetRegistration(infoPath, name, info);
    }

    /// <summary><see cref="PrepareRegistration"/> then write; returns what was written.</summary>
    public static DatasetRegistration RegisterDataset(string dataPath, string name, bool ranking)
    {
        var registration = PrepareRegistration(dataPath, name, ranking);
        registration.Write();
        return registration;
    }

    private static JsonObject ReadDatasetInfo(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new UserInputException($"{path}: not a JSON object; fix or remove it before exporting here.");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: not valid JSON ({e.Message}); fix or remove it before exporting here.", e);
        }
    }
}
