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

    private static readonly IReadOnlyList<ChatMessage>[] Conversations =
    [
        new PaperFormat().RefinePrompt("Write.", "draft", "Final Judgement: No").Append(new(ChatMessage.Assistant, "Reflection on how to refine the Output: x\nFinal Refined Output: [[start]] y [[end]]")).ToList(),
        [new(ChatMessage.System, "s"), new(ChatMessage.User, "J|p|r"), new(ChatMessage.Assistant, "=> yes")],
    ];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TrlDpo_WriteThenRead_RoundTripsWithPromptChosenRejectedKeys()
    {
        var path = Path.Combine(_dir, "dpo.jsonl");

        TrlJsonl.WriteDpo(path, Pairs);

        Assert.Equal(Pairs, TrlJsonl.ReadDpo(path));
        var line = File.ReadLines(path).First();
        Assert.StartsWith("{\"prompt\":\"Write about a fox, \u201Cquoted\u201D.\",\"chosen\":", line);
        Assert.Contains("\"rejected\":", line);
        Assert.Equal(2, File.ReadAllLines(path).Length);
    }

    [Fact]
    public void LlamaFactoryDpo_WriteThenRead_RoundTripsInShareGptMessagesLayout()
    {
        var path = Path.Combine(_dir, "dpo-lf.jsonl");

        LlamaFactoryJsonl.WriteDpo(path, Pairs);

        Assert.Equal(Pairs, LlamaFactoryJsonl.ReadDpo(path));
        Assert.StartsWith("{\"messages\":[{\"role\":\"user\",\"content\":", File.ReadLines(path).First());
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
    [InlineData("{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}\nnot json", ":2: not a valid JSON object")]
    [InlineData("\n{\"prompt\":\"p\",\"chosen\":\"c\"}", ":2: needs string fields prompt, chosen and rejected")]
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
        var entry = System.Text.Json.JsonDocument.Parse(LlamaFactoryJsonl.DatasetInfoEntry("dpo.jsonl", ranking: true)).RootElement;

        Assert.Equal("sharegpt", entry.GetProperty("formatting").GetString());
        Assert.True(entry.GetProperty("ranking").GetBoolean());
        Assert.Equal("rejected", entry.GetProperty("columns").GetProperty("rejected").GetString());
        Assert.Equal("role", entry.GetProperty("tags").GetProperty("role_tag").GetString());
    }
}
