using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using static SparOrleans.Client.Tests.SparInvocation;
using static TorchSharp.torch;

namespace SparOrleans.Client.Tests;

/// <summary>A tiny saved checkpoint, shared by the tests: creating and saving one per test would dominate their time.</summary>
public sealed class TinyCheckpoint : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("spar-generate-").FullName;

    public string ModelDir => Path.Combine(Root, "model");

    public TinyCheckpoint()
    {
        using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 1);
        ModelCheckpoint.Save(model, ModelDir);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class GenerateCommandTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private string Model => checkpoint.ModelDir;

    private sealed record Reply(string Text, int[] TokenIds, int[] PromptTokenIds, string FinishReason);

    private static Reply ParseOne((int Code, string Out, string Err) run)
    {
        var (code, output, error) = run;
        Assert.True(code == ExitCodes.Success, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using var json = JsonDocument.Parse(lines[0]);
        var root = json.RootElement;
        Assert.Equal(new[] { "text", "token_ids", "prompt_token_ids", "finish_reason" }, root.EnumerateObject().Select(p => p.Name));
        return new Reply(root.GetProperty("text").GetString()!,
            [.. root.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32())],
            [.. root.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32())],
            root.GetProperty("finish_reason").GetString()!);
    }

    /// <summary>Greedy decoding recomputed from scratch over the whole sequence each step, independent of the engine's KV cache and batching.</summary>
    private static (List<int> Ids, string Finish) ManualGreedy(LanguageModel model, int[] prompt, int maxNew)
    {
        var tokens = prompt.Select(t => (long)t).ToList();
        var generated = new List<int>();
        using var noGrad = no_grad();
        for (var i = 0; i < maxNew; i++)
        {
            using var scope = NewDisposeScope();
            var next = (int)model.Network.Forward(tensor(tokens.ToArray(), [1, tokens.Count]))[0, -1].argmax().item<long>();
            if (model.Template.StopTokenIds.Contains(next))
            {
                return (generated, "stop");
            }
            generated.Add(next);
            tokens.Add(next);
        }
        return (generated, "length");
    }

    [Fact]
    public async Task Generate_Greedy_MatchesTheTemplateAndAManualArgmaxLoop_AndRepeats()
    {
        string[] args = ["generate", "--model", Model, "--system", "Be brief.", "--prompt", "Write 3 letters k", "--max-new-tokens", "12", "--format", "json"];
        var first = ParseOne(await Spar(args));
        var second = ParseOne(await Spar(args));

        using var model = ModelCheckpoint.Load(Model);
        var expectedPrompt = model.Template.Encode([new ChatMessage(ChatMessage.System, "Be brief."), new ChatMessage(ChatMessage.User, "Write 3 letters k")]).Tokens;
        Assert.Equal(expectedPrompt, first.PromptTokenIds);
        var (ids, finish) = ManualGreedy(model, expectedPrompt, 12);
        Assert.Equal(ids, first.TokenIds);
        Assert.Equal(finish, first.FinishReason);
        Assert.Equal(model.Tokenizer.Decode(ids), first.Text);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.TokenIds, second.TokenIds);
    }

    [Fact]
    public async Task Generate_MessagesFile_RendersLikeTheTemplate_AndTextModePrintsTheReplyAlone()
    {
        var file = Path.Combine(checkpoint.Root, "chat.json");
        await File.WriteAllTextAsync(file, """
            [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
             {"role": "assistant", "content": "yo"}, {"role": "user", "content": "again"}]
            """);
        var json = ParseOne(await Spar("generate", "--model", Model, "--messages", file, "--max-new-tokens", "5", "--format", "json"));
        var (code, output, error) = await Spar("generate", "--model", Model, "--messages", file, "--max-new-tokens", "5");

        using var model = ModelCheckpoint.Load(Model);
        ChatMessage[] chat = [new("system", "s"), new("user", "hi"), new("assistant", "yo"), new("user", "again")];
        Assert.Equal(model.Template.Encode(chat).Tokens, json.PromptTokenIds);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(json.Text + Environment.NewLine, output);
        Assert.Contains($"{json.PromptTokenIds.Length} prompt tokens", error);
    }

    [Fact]
    public async Task Generate_Raw_TokenizesThePromptAsIs()
    {
        var reply = ParseOne(await Spar("generate", "--model", Model, "--prompt", "Once upon", "--raw", "--max-new-tokens", "4", "--format", "json"));

        using var model = ModelCheckpoint.Load(Model);
        Assert.Equal(model.Tokenizer.Encode("Once upon"), reply.PromptTokenIds);
        Assert.Equal(ManualGreedy(model, [.. model.Tokenizer.Encode("Once upon")], 4).Ids, reply.TokenIds);
    }

    [Fact]
    public async Task Generate_Sampling_SameSeedSameText_OtherSeedDiffers()
    {
        async Task<Reply> Sample(string seed) =>
            ParseOne(await Spar("generate", "--model", Model, "--prompt", "hello", "--temperature", "1", "--seed", seed, "--max-new-tokens", "16", "--format", "json"));

        var first = await Sample("5");
        var again = await Sample("5");
        var other = await Sample("6");

        Assert.Equal(first.TokenIds, again.TokenIds);
        Assert.Equal(first.Text, again.Text);
        // An untrained model samples near uniformly over 264 ids: 16 equal draws under another seed would be a bug.
        Assert.NotEqual(first.TokenIds, other.TokenIds);
    }

    [Fact]
    public async Task Generate_MaxNewTokens_EndsWithLength()
    {
        var reply = ParseOne(await Spar("generate", "--model", Model, "--prompt", "hello", "--max-new-tokens", "3", "--format", "json"));

        // The fixture's model does not end its turn within 3 tokens for this prompt (checked against the manual loop).
        using var model = ModelCheckpoint.Load(Model);
        Assert.Equal("length", ManualGreedy(model, reply.PromptTokenIds, 3).Finish);
        Assert.Equal("length", reply.FinishReason);
        Assert.Equal(3, reply.TokenIds.Length);
    }

    public static TheoryData<string[], string> BadArguments => new()
    {
        { ["generate", "--prompt", "x"], "give --model DIR" },
        { ["generate", "--model", "/nonexistent/model", "--prompt", "x"], "no model directory /nonexistent/model" },
        { ["generate", "--model", "MODEL", "--prompt", ""], "--prompt is empty" },
        { ["generate", "--model", "MODEL"], "exactly one of --prompt TEXT and --messages FILE" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--messages", "f.json"], "exactly one of --prompt TEXT and --messages FILE" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--raw", "--system", "s"], "--raw" },
        { ["generate", "--model", "MODEL", "--messages", "ROOT/missing.json", "--raw"], "--raw" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--max-new-tokens", "0"], "--max-new-tokens must be between 1 and 32768 (got 0)" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--max-new-tokens", "40000"], "--max-new-tokens must be between 1 and 32768 (got 40000)" },
        // The compact template renders "x" as <|user|> x <|eos|> <|assistant|>: 4 of the model's 2048 positions.
        { ["generate", "--model", "MODEL", "--prompt", "x", "--max-new-tokens", "2045"], "--max-new-tokens 2045 does not fit: the model holds 2048 positions and the prompt takes 4, leaving 2044" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--temperature", "-0.5"], "--temperature must be between 0 and 10" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--top-p", "0"], "--top-p must be in (0, 1]" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--top-p", "1.5"], "--top-p must be in (0, 1]" },
        { ["generate", "--model", "MODEL", "--prompt", "x", "--device", "tpu"], "--device must be cpu, cuda or cuda:N" },
        { ["generate", "--model", "ROOT", "--prompt", "x"], "not a model directory (config.json not found)" },
        { ["generate", "--model", "MODEL", "--messages", "ROOT/missing.json"], "cannot read messages file ROOT/missing.json" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Generate_BadArguments_OneErrorLineExit2(string[] args, string message)
    {
        string Place(string s) => s.Replace("MODEL", Model).Replace("ROOT", checkpoint.Root);
        var (code, output, error) = await Spar([.. args.Select(Place)]);

        AssertOneErrorLine(code, output, error, Place(message));
    }

    public static TheoryData<string, string> BadMessageFiles => new()
    {
        { "[{\"role\": \"user\", \"content\": ", "not valid JSON" },
        { "{\"role\": \"user\", \"content\": \"hi\"}", "must be a JSON array" },
        { "[]", "holds no messages" },
        { "[{\"role\": \"user\", \"content\": \"hi\"}, 3]", "message 1 is not an object" },
        { "[{\"content\": \"hi\"}]", "message 0 has no string \"role\"" },
        { "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"tool\", \"content\": \"x\"}]", "message 1 has role \"tool\" (expected system, user or assistant)" },
        { "[{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": 7}]", "message 1 has no string \"content\"" },
        { "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]", "the last message (index 1) must be a user message (got assistant)" },
    };

    [Theory]
    [MemberData(nameof(BadMessageFiles))]
    public async Task Generate_BadMessagesFile_OneErrorLineNamingTheFile(string content, string message)
    {
        var file = Path.Combine(checkpoint.Root, $"bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, content);

        var (code, output, error) = await Spar("generate", "--model", Model, "--messages", file);

        AssertOneErrorLine(code, output, error, $"{file}: ");
        Assert.Contains(message, error);
    }

    private static void AssertOneErrorLine(int code, string output, string error, string message)
    {
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
    }
}
