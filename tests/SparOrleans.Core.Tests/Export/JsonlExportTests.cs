using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Tests.Export;

public sealed class JsonlExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spar-export-").FullName;

    private static readonly DpoPair[] Pairs =
    [
        new("Write about a fox, \u201Cquoted\u201D.", "the fox slept in the forest", "the fox slept, by the river"),
        new("Line\nbreaks and \"quotes\" and \u00E9", "é yes", "no\ttab"),
    ];

    private static readonly ChatPreference[] Preferences = [.. Pairs.Select(p => ChatPreference.From(p, new CompactFormat()))];

    private static readonly IReadOnlyList<ChatMessage>[] Conversations =
    [
        new PaperFormat().RefinePrompt("Write.", "draft", "Final Judgement: No").Append(new(ChatMessage.Assistant, "Reflection on how to refine the Output: x\nFinal Refined Output: [[start]] y [[end]]")).ToList(),
        [new(ChatMessage.System, "s"), new(ChatMessage.User, "J|p|r"), new(ChatMessage.Assistant, "=> yes")],
    ];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TrlDpo_WriteThenRead_RoundTripsAsConversationalPreferenceRows()
    {
        var path = Path.Combine(_dir, "dpo.jsonl");

        TrlJsonl.WriteDpo(path, Preferences);

        AssertSame(Preferences, TrlJsonl.ReadDpo(path));
        Assert.Equal(
            "{\"prompt\":[{\"role\":\"user\",\"content\":\"A|Write about a fox, \u201Cquoted\u201D.\"}]," +
            "\"chosen\":[{\"role\":\"assistant\",\"content\":\"the fox slept in the forest\"}]," +
            "\"rejected\":[{\"role\":\"assistant\",\"content\":\"the fox slept, by the river\"}]}",
            File.ReadLines(path).First());
        Assert.Equal(2, File.ReadAllLines(path).Length);
    }

    [Fact]
    public void ChatPreference_PaperFormat_AsksWithTheBareInstruction()
    {
        var preference = ChatPreference.From(Pairs[0], new PaperFormat());

        Assert.Equal([new ChatMessage(ChatMessage.User, Pairs[0].Prompt)], preference.Prompt);
        Assert.Equal([new ChatMessage(ChatMessage.User, "A|" + Pairs[0].Prompt)], ChatPreference.From(Pairs[0], new CompactFormat()).Prompt);
    }

    [Fact]
    public void LlamaFactoryDpo_WriteThenRead_RoundTripsInShareGptMessagesLayout()
    {
        var path = Path.Combine(_dir, "dpo-lf.jsonl");

        LlamaFactoryJsonl.WriteDpo(path, Preferences);

        AssertSame(Preferences, LlamaFactoryJsonl.ReadDpo(path));
        Assert.StartsWith("{\"messages\":[{\"role\":\"user\",\"content\":\"A|", File.ReadLines(path).First());
        Assert.Contains("\"chosen\":{\"role\":\"assistant\",\"content\":\"the fox slept in the forest\"}", File.ReadLines(path).First());
    }

    [Fact]
    public void Sft_BothLayouts_RoundTripConversations()
    {
        var trl = Path.Combine(_dir, "sft.jsonl");
        var lf = Path.Combine(_dir, "sft-lf.jsonl");

        TrlJsonl.WriteSft(trl, Conversations);
        LlamaFactoryJsonl.WriteSft(lf, Conversations);

        Assert.Equal(Conversations.Select(c => c.ToList()), TrlJsonl.ReadSft(trl).Select(c => c.ToList()));
        Assert.Equal(Conversations.Select(c => c.ToList()), LlamaFactoryJsonl.ReadSft(lf).Select(c => c.ToList()));
        Assert.Equal(File.ReadAllText(trl), File.ReadAllText(lf));
        Assert.Single(Directory.GetFiles(_dir, "*sft.jsonl*"));
    }

    [Theory]
    [InlineData("{\"prompt\":[{\"role\":\"user\",\"content\":\"p\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"c\"}],\"rejected\":[{\"role\":\"assistant\",\"content\":\"r\"}]}\nnot json", ":2: not a valid JSON object")]
    [InlineData("\n{\"prompt\":[{\"role\":\"user\",\"content\":\"p\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"c\"}]}", ":2: chosen and rejected must each be one assistant turn")]
    [InlineData("{\"prompt\":[{\"role\":\"assistant\",\"content\":\"p\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"c\"}],\"rejected\":[{\"role\":\"assistant\",\"content\":\"r\"}]}", ":1: prompt must end with a user turn")]
    [InlineData("{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}", ":1: not a valid JSON object")]
    public void ReadDpo_MalformedLine_NamesFileAndLine(string content, string expected)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, content);

        var e = Assert.Throws<UserInputException>(() => TrlJsonl.ReadDpo(path));

        Assert.Contains(path + expected, e.Message);
    }

    [Fact]
    public void ReadSft_UnknownRoleOrMissingFile_IsUserError()
    {
        var path = Path.Combine(_dir, "bad-role.jsonl");
        File.WriteAllText(path, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}\n");

        Assert.Contains(":1: every message needs a role", Assert.Throws<UserInputException>(() => LlamaFactoryJsonl.ReadSft(path)).Message);
        Assert.Contains("file not found", Assert.Throws<UserInputException>(() => TrlJsonl.ReadSft(Path.Combine(_dir, "none.jsonl"))).Message);
    }

    [Fact]
    public void DatasetInfoEntry_Ranking_DescribesTheShareGptColumns()
    {
        var entry = LlamaFactoryJsonl.DatasetInfoEntry("dpo.jsonl", ranking: true);

        Assert.Equal("dpo.jsonl", entry["file_name"]!.GetValue<string>());
        Assert.Equal("sharegpt", entry["formatting"]!.GetValue<string>());
        Assert.True(entry["ranking"]!.GetValue<bool>());
        Assert.Equal("rejected", entry["columns"]!["rejected"]!.GetValue<string>());
        Assert.Equal("role", entry["tags"]!["role_tag"]!.GetValue<string>());
        Assert.Null(LlamaFactoryJsonl.DatasetInfoEntry("rft.jsonl", ranking: false)["columns"]!["chosen"]);
    }

    [Fact]
    public void RegisterDataset_ExistingInfo_MergesAndKeepsOtherEntriesAtomically()
    {
        var info = Path.Combine(_dir, "dataset_info.json");
        File.WriteAllText(info, "{\"alpaca_en\": {\"file_name\": \"alpaca_en.json\", \"note\": \"untouched\"}, \"dpo\": {\"file_name\": \"dpo.jsonl\", \"ranking\": false}}");

        var registration = LlamaFactoryJsonl.RegisterDataset(Path.Combine(_dir, "dpo.jsonl"), "dpo", ranking: true);

        Assert.Equal(info, registration.InfoPath);
        var merged = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(info))!.AsObject();
        Assert.Equal(["alpaca_en", "dpo"], merged.Select(e => e.Key));
        Assert.Equal("untouched", merged["alpaca_en"]!["note"]!.GetValue<string>());
        Assert.True(merged["dpo"]!["ranking"]!.GetValue<bool>());
        Assert.Equal(["dataset_info.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("{\"dpo\": {\"file_name\": \"other.jsonl\"}}", "dpo.jsonl", "already has a dataset 'dpo' for the file 'other.jsonl'")]
    [InlineData("{not json", "dpo.jsonl", "dataset_info.json: not valid JSON")]
    [InlineData("[1, 2]", "dpo.jsonl", "dataset_info.json: not a JSON object")]
    [InlineData(null, "dpo.txt", "LLaMA-Factory reads JSON lines only from files ending in .jsonl or .json")]
    public void PrepareRegistration_ConflictOrBadInfoOrExtension_IsUserErrorAndWritesNothing(string? existing, string file, string message)
    {
        var info = Path.Combine(_dir, "dataset_info.json");
        if (existing is not null)
        {
            File.WriteAllText(info, existing);
        }

        var e = Assert.Throws<UserInputException>(() => LlamaFactoryJsonl.PrepareRegistration(Path.Combine(_dir, file), "dpo", ranking: true));

        Assert.Contains(message, e.Message);
        Assert.Equal(existing, File.Exists(info) ? File.ReadAllText(info) : null);
    }

    private static void AssertSame(IReadOnlyList<ChatPreference> expected, IReadOnlyList<ChatPreference> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Prompt, actual[i].Prompt);
            Assert.Equal((expected[i].Chosen, expected[i].Rejected), (actual[i].Chosen, actual[i].Rejected));
        }
    }
}
