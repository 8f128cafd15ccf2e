using System.Net;
using System.Text;
using System.Text.Json;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.OpenAi.Client;
using SparOrleans.OpenAi.Protocol;
using SparOrleans.OpenAi.Server;

namespace SparOrleans.Client.Tests;

/// <summary>The OpenAI-compatible server in-process on a free loopback port, spoken to over real HTTP.</summary>
public sealed class OpenAiServerTests(OpenAiFixture fixture) : IClassFixture<OpenAiFixture>
{
    private static readonly ChatMessage[] Chat = [new(ChatMessage.System, "Be brief."), new(ChatMessage.User, "Name a bird.")];

    private static WireChatRequest Request(string model, int maxTokens = 24, double temperature = 0, long? seed = null) =>
        new(model, [.. Chat.Select(m => new WireMessage(m.Role, m.Content))]) { MaxTokens = maxTokens, Temperature = temperature, Seed = seed };

    private OpenAiGenerationClient NewClient(int concurrency = 16) =>
        new(new OpenAiClientOptions { BaseUrl = fixture.Server.Address, MaxConcurrency = concurrency, MaxRetries = 0 });

    private static async Task<(HttpStatusCode Status, JsonDocument Body)> Post(Uri url, string body, string? key = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }
        using var response = await http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    private static void AssertOpenAiError(JsonDocument body, string type)
    {
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(new[] { "message", "type", "param", "code" }, error.EnumerateObject().Select(p => p.Name));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ChatCompletion_Greedy_EqualsTheEnginesOwnGeneration()
    {
        // The mixed model: a fresh one greedily repeats the assistant marker, which decodes to no text at all.
        var expected = OpenAiFixture.EngineGenerate(fixture.Mixed, Chat, 24);
        using var client = NewClient();

        var completion = await client.CompleteAsync(Request(OpenAiFixture.MixedName));

        var choice = Assert.Single(completion.Choices);
        Assert.NotEmpty(expected.Text);
        Assert.Equal(expected.Text, choice.Message.Content);
        Assert.Equal("assistant", choice.Message.Role);
        Assert.Equal(expected.TokenIds.Count, completion.Usage.CompletionTokens);
        Assert.Equal(expected.PromptTokens, completion.Usage.PromptTokens);
        Assert.Equal(completion.Usage.PromptTokens + completion.Usage.CompletionTokens, completion.Usage.TotalTokens);
        Assert.Equal(expected.FinishReason == Engine.Generation.FinishReason.Length ? "length" : "stop", choice.FinishReason);
        Assert.Equal("chat.completion", completion.Object);
    }

    [Fact]
    public async Task ChatCompletion_SameSeedAndTemperature_SameTextAndEqualsTheEngine()
    {
        using var client = NewClient();
        var request = Request(OpenAiFixture.ModelName, temperature: 0.9, seed: 42);

        var first = await client.CompleteAsync(request);
        var second = await client.CompleteAsync(request);
        var other = await client.CompleteAsync(request with { Seed = 43 });

        Assert.Equal(first.Choices[0].Message.Content, second.Choices[0].Message.Content);
        Assert.NotEqual(first.Choices[0].Message.Content, other.Choices[0].Message.Content);
        Assert.Equal(OpenAiFixture.EngineGenerate(fixture.Model, Chat, 24, 0.9, 42).Text, first.Choices[0].Message.Content);
    }

    [Fact]
    public async Task ChatCompletion_NChoicesAndStop_EachChoiceSeededAndCut()
    {
        using var client = NewClient();
        var sampled = (await client.CompleteAsync(Request(OpenAiFixture.ModelName, maxTokens: 64, temperature: 1, seed: 11))).Choices[0].Message.Content;
        // An ASCII pair: a stop string inside a multi-byte character would test the byte decoder, not the stop.
        var at = Enumerable.Range(1, Math.Max(0, sampled.Length - 2)).First(i => char.IsAsciiLetterOrDigit(sampled[i]) && char.IsAsciiLetterOrDigit(sampled[i + 1]));
        var stop = sampled.Substring(at, 2);

        var completion = await client.CompleteAsync(Request(OpenAiFixture.ModelName, temperature: 1, seed: 5) with { N = 3 });
        var cut = await client.CompleteAsync(Request(OpenAiFixture.ModelName, maxTokens: 64, temperature: 1, seed: 11) with { Stop = [stop] });

        Assert.Equal([0, 1, 2], completion.Choices.Select(c => c.Index));
        Assert.Equal(OpenAiFixture.EngineGenerate(fixture.Model, Chat, 24, 1, 6).Text, completion.Choices[1].Message.Content);
        Assert.Equal(sampled[..sampled.IndexOf(stop, StringComparison.Ordinal)], cut.Choices[0].Message.Content);
        Assert.Equal("stop", cut.Choices[0].FinishReason);
    }

    [Fact]
    public async Task Stream_SseChunksThenDone_JoinToTheWholeText()
    {
        using var client = NewClient();
        var whole = (await client.CompleteAsync(Request(OpenAiFixture.ModelName))).Choices[0].Message.Content;
        using var http = new HttpClient();
        var body = """{"model": "tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a bird."}], "max_tokens": 24, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}""";

        using var response = await http.PostAsync(new Uri(fixture.BaseUrl, "chat/completions"), new StringContent(body, Encoding.UTF8, "application/json"));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        var text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(whole, text);
        Assert.Equal(24, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_ListsTheServedNames()
    {
        using var client = NewClient();

        var models = await client.ListModelsAsync();

        Assert.Equal([OpenAiFixture.MixedName, OpenAiFixture.ModelName], models.Select(m => m.Id).Where(n => n != "tuned"));
        Assert.All(models.Where(m => m.Id != "tuned"), m => Assert.True(m.Object == "model" && m.Parent is null));
    }

    [Fact]
    public async Task UnknownModel_404InOpenAisShape()
    {
        var (status, body) = await Post(new Uri(fixture.BaseUrl, "chat/completions"), """{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}""");

        Assert.Equal(HttpStatusCode.NotFound, status);
        AssertOpenAiError(body, "not_found_error");
        Assert.Contains("gpt-9", body.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("model", body.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("{\"model\": \"tiny\", \"messages\": [", null)]
    [InlineData("{\"model\": \"tiny\", \"messages\": []}", "messages")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages[0].role")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}", "n")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 3}", "stop")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 100000000}", "max_tokens")]
    [InlineData("{\"model\": \"tiny\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{}]}", "tools")]
    public async Task BadRequest_400NamingTheParameter(string body, string? param)
    {
        var (status, error) = await Post(new Uri(fixture.BaseUrl, "chat/completions"), body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertOpenAiError(error, "invalid_request_error");
        var got = error.RootElement.GetProperty("error").GetProperty("param");
        Assert.Equal(param, got.ValueKind == JsonValueKind.Null ? null : got.GetString());
    }

    [Fact]
    public async Task ApiKey_MissingOrWrong401_RightOneServed()
    {
        await using var keyed = await OpenAiServer.StartAsync(new Dictionary<string, LanguageModel> { ["tiny"] = fixture.Model },
            new OpenAiServerOptions { Port = 0, ApiKey = "sk-test-1", Threads = 1 });
        var url = new Uri(keyed.Address, "v1/chat/completions");
        const string body = """{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}""";

        var (missing, missingBody) = await Post(url, body);
        var (wrong, wrongBody) = await Post(url, body, "sk-test-2");
        var (right, _) = await Post(url, body, "sk-test-1");
        using var client = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = keyed.Address, ApiKey = "sk-nope", MaxRetries = 3 });
        var refused = await Assert.ThrowsAsync<OpenAiClientException>(() => client.ListModelsAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, missing);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        AssertOpenAiError(missingBody, "authentication_error");
        AssertOpenAiError(wrongBody, "authentication_error");
        Assert.Equal(HttpStatusCode.OK, right);
        Assert.Equal(401, refused.Status);
        Assert.Contains("not retried", refused.Message);
        Assert.Contains("Incorrect API key", refused.Message);
    }

    [Fact]
    public void Options_OffLoopbackWithoutAllowRemote_Refused()
    {
        var problems = new OpenAiServerOptions { Address = IPAddress.Any, ApiKey = "k" }.Problems().ToList();

        Assert.Contains(problems, p => p.Contains("must be allowed explicitly", StringComparison.Ordinal));
        Assert.Empty(new OpenAiServerOptions { Address = IPAddress.Any, AllowRemote = true }.Problems());
    }

    [Fact]
    public async Task LoadLoraAdapter_RequestsNamingItAnswerAsTheAdaptedModel_UnloadRemovesIt()
    {
        using var adapted = ModelCheckpoint.Load(fixture.ModelDir);
        LoraAdapters.Load(adapted.Network, fixture.AdapterDir);
        var expected = OpenAiFixture.EngineGenerate(adapted, Chat, 24);
        var baseText = OpenAiFixture.EngineGenerate(fixture.Model, Chat, 24).Text;
        using var client = NewClient();

        var ambiguous = await Assert.ThrowsAsync<OpenAiClientException>(() => client.LoadLoraAdapterAsync("tuned", fixture.AdapterDir));
        await client.LoadLoraAdapterAsync("tuned", fixture.AdapterDir, OpenAiFixture.ModelName);
        var models = await client.ListModelsAsync();
        var viaAdapter = await client.CompleteAsync(Request("tuned"));
        var viaBase = await client.CompleteAsync(Request(OpenAiFixture.ModelName));
        var twice = await Assert.ThrowsAsync<OpenAiClientException>(() => client.LoadLoraAdapterAsync("tuned", fixture.AdapterDir, OpenAiFixture.ModelName));
        await client.UnloadLoraAdapterAsync("tuned");
        var gone = await Assert.ThrowsAsync<OpenAiClientException>(() => client.CompleteAsync(Request("tuned")));

        Assert.NotEqual(baseText, expected.Text);
        Assert.Equal(expected.Text, viaAdapter.Choices[0].Message.Content);
        Assert.Equal(baseText, viaBase.Choices[0].Message.Content);
        Assert.Contains(models, m => m.Id == "tuned" && m.Parent == OpenAiFixture.ModelName);
        Assert.Equal(400, twice.Status);
        Assert.Contains("several base models", ambiguous.Message);
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task LoadLoraAdapter_NotAnAdapterDirectory_400WithTheReason()
    {
        using var client = NewClient();

        // The root holds neither an adapter nor a whole checkpoint (which our server would load as a model).
        var e = await Assert.ThrowsAsync<OpenAiClientException>(() => client.LoadLoraAdapterAsync("broken", fixture.Root, OpenAiFixture.ModelName));

        Assert.Equal(400, e.Status);
        Assert.Contains("adapter_config.json", e.Message);
    }

    [Fact]
    public async Task ManyConcurrentRequests_AllSucceedAndEqualTheirOwnRuns()
    {
        using var client = NewClient(concurrency: 64);
        var requests = Enumerable.Range(0, 64).Select(i => Request(OpenAiFixture.ModelName, maxTokens: 8, temperature: 1, seed: i % 4)).ToList();

        var completions = await Task.WhenAll(requests.Select(r => client.CompleteAsync(r)));

        Assert.All(completions, c => Assert.InRange(Assert.Single(c.Choices).Message.Content.Length, 0, 64));
        // The same seed gives the same text whatever shares the batch.
        for (var i = 4; i < 64; i++)
        {
            Assert.Equal(completions[i % 4].Choices[0].Message.Content, completions[i].Choices[0].Message.Content);
        }
    }
}
