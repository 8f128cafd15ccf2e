using SparOrleans.Core.Datasets;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Tests.Export;

/// <summary>
/// Files our exporters write, checked by check_export_schema.py against the rules of TRL's and LLaMA-Factory's loaders
/// (neither is packaged by Debian, so the script re-states them with python3's stdlib and cites the loader code).
/// </summary>
public sealed class ExportSchemaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spar-schema-").FullName;

    private static readonly DpoPair[] Pairs =
    [
        new("Write about a fox | in two sentences, \u201Cquoted\u201D.", "The fox slept.\nIt woke.", "the fox slept"),
        new("Line\nbreaks, \"quotes\", \u00E9 and a tab\t.", "é", "no"),
    ];

    private static IReadOnlyList<ChatMessage>[] Conversations()
    {
        var paper = new PaperFormat();
        var compact = new CompactFormat();
        return
        [
            [.. paper.RefinePrompt("Write.", "draft", "Step-by-step verification: x\nFinal Judgement (if the Output accurately follows the Prompt): No"),
                new(ChatMessage.Assistant, paper.RenderRefinement("add a comma", "draft, fixed"))],
            [.. paper.JudgePrompt("Write.", "draft"), new(ChatMessage.Assistant, "Step-by-step verification: ok\nFinal Judgement (if the Output accurately follows the Prompt): Yes")],
            [.. compact.RefinePrompt("Write.", "draft", "c: x NO\n=> no"), new(ChatMessage.Assistant, compact.RenderRefinement("r", "fixed"))],
            [new(ChatMessage.System, "You judge."), .. compact.JudgePrompt("Write.", "draft"), new(ChatMessage.Assistant, "c: x ok\n=> yes")],
        ];
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("compact")]
    [InlineData("paper")]
    public void TrlDpo_OurRows_PassTrlsConversationalPreferenceRules(string format)
    {
        var path = Path.Combine(_dir, "dpo.jsonl");
        TrlJsonl.WriteDpo(path, Pairs.Select(p => ChatPreference.From(p, RoleFormats.ByName(format))));

        AssertPasses("trl-preference", path);
    }

    [Fact]
    public void TrlSft_OurRows_PassTrlsConversationalLanguageModelingRules()
    {
        var path = Path.Combine(_dir, "rft.jsonl");
        TrlJsonl.WriteSft(path, Conversations());

        AssertPasses("trl-lm", path);
    }

    [Fact]
    public void TrlDpo_PlainStringRow_IsRejectedAsNotConversational()
    {
        // The layout `spar export --style trl` wrote before: TRL reads it as "standard" and skips the chat template.
        var path = Path.Combine(_dir, "old.jsonl");
        File.WriteAllText(path, "{\"prompt\":\"Write.\",\"chosen\":\"a\",\"rejected\":\"b\"}\n");

        var (code, output) = Check("trl-preference", path);

        Assert.Equal(1, code);
        Assert.Contains("old.jsonl:1: not conversational", output);
    }

    [Fact]
    public void TrlDpo_PromptEndingWithAssistantOrSftKeys_AreRejected()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path,
            "{\"prompt\":[{\"role\":\"assistant\",\"content\":\"p\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"a\"}],\"rejected\":[{\"role\":\"assistant\",\"content\":\"b\"}]}\n" +
            "{\"messages\":[{\"role\":\"user\",\"content\":\"p\"}]}\n");

        var (code, output) = Check("trl-preference", path);

        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:1: prompt ends with a 'assistant' turn", output);
        Assert.Contains("bad.jsonl:2: TRL keys ['messages']", output);
    }

    [Theory]
    [InlineData("compact")]
    [InlineData("paper")]
    public void LlamaFactory_OurFilesAndDatasetInfo_LoadAsRankingAndSftDatasets(string format)
    {
        var data = Directory.CreateDirectory(Path.Combine(_dir, "data")).FullName;
        File.WriteAllText(Path.Combine(data, LlamaFactoryJsonl.DatasetInfoFileName), "{\"identity\": {\"file_name\": \"identity.json\"}}");
        var dpo = Path.Combine(data, "dpo.jsonl");
        var rft = Path.Combine(data, "rft.jsonl");

        LlamaFactoryJsonl.WriteDpo(dpo, Pairs.Select(p => ChatPreference.From(p, RoleFormats.ByName(format))));
        LlamaFactoryJsonl.RegisterDataset(dpo, "dpo", ranking: true);
        LlamaFactoryJsonl.WriteSft(rft, Conversations());
        LlamaFactoryJsonl.RegisterDataset(rft, "rft", ranking: false);

        AssertPasses("llama-factory", data, "dpo", "--stage", "dpo");
        AssertPasses("llama-factory", data, "rft", "--stage", "sft");
        Assert.Contains("\"identity\"", File.ReadAllText(Path.Combine(data, LlamaFactoryJsonl.DatasetInfoFileName)));
    }

    [Fact]
    public void LlamaFactory_BrokenAlternationWrongStageOrMissingEntry_AreRejected()
    {
        var rft = Path.Combine(_dir, "rft.jsonl");
        LlamaFactoryJsonl.WriteSft(rft, [[new(ChatMessage.User, "a"), new(ChatMessage.User, "b")], [new(ChatMessage.User, "a")]]);
        LlamaFactoryJsonl.RegisterDataset(rft, "rft", ranking: false);

        var (code, output) = Check("llama-factory", _dir, "rft", "--stage", "sft");
        Assert.Equal(1, code);
        Assert.Contains("rft.jsonl:1: turn 2 has role 'user'", output);
        Assert.Contains("rft.jsonl:2: 1 turns after the system prompt", output);

        Assert.Contains("stage dpo needs ranking True", Check("llama-factory", _dir, "rft", "--stage", "dpo").Output);
        Assert.Contains("no entry 'dpo'", Check("llama-factory", _dir, "dpo", "--stage", "dpo").Output);
    }

    private static void AssertPasses(params string[] args) => ExportSchemaCheck.AssertPasses(args);

    private static (int Code, string Output) Check(params string[] args) => ExportSchemaCheck.Run(args);
}
