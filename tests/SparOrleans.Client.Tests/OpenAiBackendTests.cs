using SparOrleans.Models.Generation;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Interfaces.Generation;
using SparOrleans.OpenAi.Client;
using SparOrleans.OpenAi.Protocol;
using SparOrleans.OpenAi.Server;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The silo's backend for served model versions against real in-process <see cref="OpenAiServer"/>s, and the CLI's
/// preflight. Servers of their own where a test stops or restarts one; the fixture's for the rest.
/// </summary>
public sealed class OpenAiBackendTests(OpenAiFixture fixture) : IClassFixture<OpenAiFixture>, IDisposable
{
    private static readonly ChatMessage[] Chat = [new(ChatMessage.System, "Be brief."), new(ChatMessage.User, "Name a bird.")];

    private static readonly Turn[] Prompt = [.. Chat.Select(m => new Turn(m.Role, m.Content))];

    private readonly string _scratch = Directory.CreateTempSubdirectory("spar-backend-").FullName;

    /// <summary>Requests the backend's clients had answered, by method and route (e.g. <c>POST /v1/load_lora_adapter</c>).</summary>
    private readonly ConcurrentQueue<string> _sent = new();

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private OpenAiBackend NewBackend(TimeSpan? readyTimeout = null) =>
        new(new OpenAiBackendOptions
        {
            PollInterval = TimeSpan.FromMilliseconds(50),
            ReadyTimeout = readyTimeout ?? TimeSpan.FromSeconds(20),
            Handler = () => new Recording(_sent),
        }, NullLogger<OpenAiBackend>.Instance);

    private int Sent(string route) => _sent.Count(r => r == route);

    private static GenerationCall Call(double temperature, long seed, int maxTokens = 16) => new(Prompt, temperature, 1.0, maxTokens, seed);

    private Task<OpenAiServer> StartTiny(int port = 0, string? apiKey = null) =>
        OpenAiServer.StartAsync(new Dictionary<string, LanguageModel> { [OpenAiFixture.ModelName] = fixture.Model },
            new OpenAiServerOptions { Port = port, Threads = 1, ApiKey = apiKey }, log: TextWriter.Null);

    private sealed class Recording(ConcurrentQueue<string> sent) : DelegatingHandler(new SocketsHttpHandler())
    {
        // Recorded when answered: an attempt that died on a connection the restarted server had closed is not a request
        // the server saw, and the client's retry of it would count twice.
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            sent.Enqueue($"{request.Method} {request.RequestUri!.AbsolutePath}");
            return response;
        }
    }

    [Fact]
    public async Task UpdateNone_GreedyAndSampled_SameTextsAsTheServersDirectAnswers()
    {
        using var backend = NewBackend();
        var model = new ModelRef(ModelRole.Actor, "actor-v0", fixture.MixedDir, new ServedModel(fixture.Server.Address.ToString(), OpenAiFixture.MixedName, ServedUpdate.None));
        GenerationCall[] calls = [Call(0, 0), Call(0.9, 42), Call(0.9, 43), Call(0.9, long.MaxValue - 5)];
        using var direct = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = fixture.Server.Address, MaxRetries = 0 });

        var got = await backend.GenerateAsync(model, calls, CancellationToken.None);
        var expected = await Task.WhenAll(calls.Select(c => direct.CompleteAsync(
            new WireChatRequest(OpenAiFixture.MixedName, [.. Chat.Select(m => new WireMessage(m.Role, m.Content))])
            {
                Temperature = c.Temperature,
                TopP = c.TopP,
                MaxTokens = c.MaxNewTokens,
                Seed = c.Seed,
            })));

        Assert.Equal(expected.Select(e => e.Choices[0].Message.Content), got.Select(g => g.Text));
        Assert.Equal(expected.Select(e => e.Usage.CompletionTokens), got.Select(g => g.Tokens));
        Assert.All(got, g => Assert.Equal("actor-v0", g.ModelVersion));
        Assert.All(got, g => Assert.Equal("", g.Silo));
        Assert.NotEmpty(got[0].Text);
        Assert.Equal(OpenAiFixture.EngineGenerate(fixture.Mixed, Chat, 16).Text, got[0].Text);
        Assert.NotEqual(got[1].Text, got[2].Text);
        Assert.Equal(0, Sent("POST /v1/load_lora_adapter"));
    }

    [Fact]
    public async Task UpdateLoraAdapter_LoadedOnceUnderConcurrentCalls_ReloadedAfterTheServerRestarts()
    {
        var server = await StartTiny();
        var port = server.Address.Port;
        try
        {
            using var backend = NewBackend();
            var model = new ModelRef(ModelRole.Refiner, "refiner-v1", fixture.AdapterDir,
                new ServedModel(server.Address.ToString(), "refiner-v1", ServedUpdate.LoraAdapter, OpenAiFixture.ModelName));
            using var adapted = ModelCheckpoint.Load(fixture.ModelDir);
            LoraAdapters.Load(adapted.Network, fixture.AdapterDir);
            var expected = OpenAiFixture.EngineGenerate(adapted, Chat, 16).Text;

            var first = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => backend.GenerateAsync(model, [Call(0, 0), Call(0.9, 7)], CancellationToken.None)));
            var loadsBefore = Sent("POST /v1/load_lora_adapter");
            await server.DisposeAsync();
            // Same port, adapters gone: what a restarted vLLM looks like to the silo.
            server = await StartTiny(port);
            // Every call meets the 404 at about the same time: the adapter is still loaded once.
            var again = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => backend.GenerateAsync(model, [Call(0, 0), Call(0.9, 7)], CancellationToken.None)));

            Assert.Equal(1, loadsBefore);
            Assert.All(first, r => Assert.Equal(expected, r[0].Text));
            Assert.Single(first.Select(r => r[1].Text).Distinct());
            Assert.NotEqual(OpenAiFixture.EngineGenerate(fixture.Model, Chat, 16).Text, expected);
            Assert.Equal(2, Sent("POST /v1/load_lora_adapter"));
            Assert.All(again, r => Assert.Equal(first[0].Select(g => g.Text), r.Select(g => g.Text)));
            Assert.Contains(server.ModelNames, n => n == "refiner-v1");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task UpdateLoraAdapter_WholeCheckpointAtLoraPath_ServedAsThatModel()
    {
        await using var server = await StartTiny();
        using var backend = NewBackend();
        var model = new ModelRef(ModelRole.Actor, "actor-v2", fixture.MixedDir,
            new ServedModel(server.Address.ToString(), "actor-v2", ServedUpdate.LoraAdapter, OpenAiFixture.ModelName));
        using var direct = ModelCheckpoint.Load(fixture.MixedDir);
        using var client = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = server.Address, MaxRetries = 0 });

        var got = await backend.GenerateAsync(model, [Call(0, 0), Call(0.9, 11)], CancellationToken.None);
        var listed = await client.ListModelsAsync();
        await client.UnloadLoraAdapterAsync("actor-v2");

        Assert.Equal(OpenAiFixture.EngineGenerate(direct, Chat, 16).Text, got[0].Text);
        Assert.Equal(OpenAiFixture.EngineGenerate(direct, Chat, 16, 0.9, 11).Text, got[1].Text);
        Assert.Contains(listed, m => m.Id == "actor-v2" && m.Parent == OpenAiFixture.ModelName);
        Assert.Equal([OpenAiFixture.ModelName], server.ModelNames);
    }

    [Fact]
    public async Task UpdateRestart_CommandRunsOncePerVersionWithItsEnvironment_BackendWaitsForTheName()
    {
        var port = RedisServer.FreePort();
        var url = $"http://127.0.0.1:{port}/v1";
        // The command records its environment; the test plays the server coming back once it has run.
        var command = $"n=$(ls '{_scratch}' | wc -l); env | grep '^SPAR_MODEL_' | sort > '{_scratch}/run-'$n'.env'";
        using var backend = NewBackend();
        ModelRef Version(string version) => new(ModelRole.Refiner, version, $"/ckpt/{version}",
            new ServedModel(url, "refiner", ServedUpdate.Restart, RestartCommand: command));
        OpenAiServer? server = null;
        try
        {
            var waiting = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => backend.GenerateAsync(Version("refiner-v1"), [Call(0, 0)], CancellationToken.None)));
            while (!File.Exists(Path.Combine(_scratch, "run-0.env")))
            {
                await Task.Delay(20);
            }
            await Task.Delay(300);
            var doneBeforeServer = waiting.IsCompleted;
            server = await OpenAiServer.StartAsync(new Dictionary<string, LanguageModel> { ["refiner"] = fixture.Model },
                new OpenAiServerOptions { Port = port, Threads = 1 }, log: TextWriter.Null);
            var v1 = await waiting;
            var v1Again = await backend.GenerateAsync(Version("refiner-v1"), [Call(0, 0)], CancellationToken.None);
            var v2 = await backend.GenerateAsync(Version("refiner-v2"), [Call(0, 0)], CancellationToken.None);

            Assert.False(doneBeforeServer);
            Assert.Equal(["run-0.env", "run-1.env"], Directory.GetFiles(_scratch).Select(Path.GetFileName).Order());
            Assert.Equal(["SPAR_MODEL_DIR=/ckpt/refiner-v1", "SPAR_MODEL_NAME=refiner", "SPAR_MODEL_ROLE=refiner", "SPAR_MODEL_VERSION=refiner-v1"],
                File.ReadAllLines(Path.Combine(_scratch, "run-0.env")));
            Assert.Equal(["SPAR_MODEL_DIR=/ckpt/refiner-v2", "SPAR_MODEL_NAME=refiner", "SPAR_MODEL_ROLE=refiner", "SPAR_MODEL_VERSION=refiner-v2"],
                File.ReadAllLines(Path.Combine(_scratch, "run-1.env")));
            var expected = OpenAiFixture.EngineGenerate(fixture.Model, Chat, 16).Text;
            Assert.All(v1.Append(v1Again).Append(v2), r => Assert.Equal(expected, Assert.Single(r).Text));
            Assert.Equal("refiner-v2", v2[0].ModelVersion);
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task UpdateRestart_CommandFails_ItsStderrInTheError_NextCallRunsItAgain()
    {
        using var backend = NewBackend();
        var model = new ModelRef(ModelRole.Actor, "actor-v1", "/ckpt/actor-v1",
            new ServedModel("http://127.0.0.1:9/v1", "actor", ServedUpdate.Restart, RestartCommand: $"echo run >> '{_scratch}/runs'; echo 'no GPU left' >&2; exit 3"));

        var first = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.GenerateAsync(model, [Call(0, 0)], CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => backend.GenerateAsync(model, [Call(0, 0)], CancellationToken.None));

        Assert.Contains("exited with 3", first.Message);
        Assert.Contains("no GPU left", first.Message);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_scratch, "runs")).Length);
    }

    [Fact]
    public async Task UpdateRestart_NameNeverListed_FailsClearlyAfterTheReadyTimeout()
    {
        using var backend = NewBackend(readyTimeout: TimeSpan.FromSeconds(1));
        var url = $"http://127.0.0.1:{RedisServer.FreePort()}/v1";
        var model = new ModelRef(ModelRole.Actor, "actor-v1", "/ckpt/actor-v1", new ServedModel(url, "actor", ServedUpdate.Restart, RestartCommand: "true"));

        var e = await Assert.ThrowsAsync<TimeoutException>(() => backend.GenerateAsync(model, [Call(0, 0)], CancellationToken.None));

        Assert.Contains($"did not list model 'actor' within 1 s", e.Message);
        Assert.Contains(url, e.Message);
    }

    [Fact]
    public async Task Preflight_AllServed_Passes()
    {
        await OpenAiPreflight.CheckAsync(fixture.Server.Address, [OpenAiFixture.ModelName, OpenAiFixture.MixedName], null, CancellationToken.None);
    }

    [Fact]
    public async Task Preflight_UnknownModel_NamesItAndWhatIsServed()
    {
        var e = await Assert.ThrowsAsync<UserInputException>(() =>
            OpenAiPreflight.CheckAsync(fixture.Server.Address, [OpenAiFixture.ModelName, "llama-70b"], null, CancellationToken.None));

        Assert.Equal($"the server at {fixture.Server.Address} does not serve model 'llama-70b' (it serves: mixed, tiny).", e.Message);
    }

    [Fact]
    public async Task Preflight_NothingListening_NamesTheUrl()
    {
        var url = new Uri($"http://127.0.0.1:{RedisServer.FreePort()}/v1");

        var e = await Assert.ThrowsAsync<UserInputException>(() => OpenAiPreflight.CheckAsync(url, ["tiny"], null, CancellationToken.None));

        Assert.StartsWith($"cannot reach the server at {url}", e.Message);
        Assert.Contains("is it running there", e.Message);
    }

    [Fact]
    public async Task Preflight_KeyMissingOrWrong_SaysSoAndNamesTheVariable()
    {
        await using var keyed = await StartTiny(apiKey: "sk-right");

        var missing = await Assert.ThrowsAsync<UserInputException>(() => OpenAiPreflight.CheckAsync(keyed.Address, ["tiny"], null, CancellationToken.None));
        var wrong = await Assert.ThrowsAsync<UserInputException>(() => OpenAiPreflight.CheckAsync(keyed.Address, ["tiny"], "sk-wrong", CancellationToken.None));
        await OpenAiPreflight.CheckAsync(keyed.Address, ["tiny"], "sk-right", CancellationToken.None);

        Assert.StartsWith($"the server at {keyed.Address} wants an API key (401: ", missing.Message);
        Assert.EndsWith("set SPAR_OPENAI_API_KEY to its key.", missing.Message);
        Assert.Contains("the key is wrong", wrong.Message);
        Assert.Contains("SPAR_OPENAI_API_KEY", wrong.Message);
    }

    [Fact]
    public async Task Router_ServedVersionsToTheServerBackend_OthersToTheLocalOne()
    {
        var router = new GenerationRouter(new Named("local"), new Named("served"));
        var local = new ModelRef(ModelRole.Actor, "actor-v1", "/ckpt");
        var served = local with { Served = new ServedModel("http://127.0.0.1:1/v1", "actor", ServedUpdate.None) };

        var a = await router.GenerateAsync(local, [Call(0, 0)], CancellationToken.None);
        var b = await router.GenerateAsync(served, [Call(0, 0)], CancellationToken.None);

        Assert.Equal("local", Assert.Single(a).Text);
        Assert.Equal("served", Assert.Single(b).Text);
    }

    private sealed class Named(string name) : IGenerationBackend
    {
        public Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Generated>>([.. calls.Select(_ => new Generated(name, 0, "", model.Version))]);
    }
}
