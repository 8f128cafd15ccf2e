using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Commands;
using SparOrleans.Engine.Model;
using SparOrleans.OpenAi.Client;
using SparOrleans.OpenAi.Protocol;
using SparOrleans.Tests.Shared;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary><c>spar serve</c> as a user runs it: a real child process on a free port, killed and restarted.</summary>
public sealed class ServeCommandTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static readonly WireChatRequest Request = new("tiny", [new WireMessage("user", "Name a bird.")]) { MaxTokens = 16, Temperature = 1, Seed = 3 };

    private Task<ServeProcess> StartServe(int port) => ServeProcess.StartAsync("--model", $"tiny={checkpoint.ModelDir}", "--port", port.ToString());

    [Fact]
    public async Task Serve_RealProcess_AnswersThenRestartsOnTheSamePort_ClientRetryCarriesARequestAcross()
    {
        Uri url;
        string first;
        using (var served = await StartServe(0))
        {
            url = served.Url;
            Assert.Equal("127.0.0.1", url.Host);
            Assert.NotEqual(0, url.Port);
            Assert.EndsWith("/v1", url.AbsolutePath);
            using var client = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = url, MaxRetries = 0 });
            var completion = await client.CompleteAsync(Request);
            first = completion.Choices[0].Message.Content;
            using var tiny = ModelCheckpoint.Load(checkpoint.ModelDir);
            // Sampled: a fresh model's greedy reply is empty text, which would prove little.
            Assert.NotEmpty(first);
            Assert.Equal(OpenAiFixture.EngineGenerate(tiny, [new("user", "Name a bird.")], 16, temperature: 1, seed: 3).Text, first);
        }

        // The server is gone: the request retries on refused connections until the new one listens.
        using var patient = new OpenAiGenerationClient(new OpenAiClientOptions
        {
            BaseUrl = url,
            MaxRetries = 40,
            RetryBaseDelay = TimeSpan.FromMilliseconds(200),
            MaxRetryDelay = TimeSpan.FromSeconds(1),
            BreakerMinimumThroughput = 100,
        });
        var clock = Stopwatch.StartNew();
        var across = patient.CompleteAsync(Request);
        await Task.Delay(500);
        Assert.False(across.IsCompleted);
        using var again = await StartServe(url.Port);
        var answer = await across.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(url.Port, again.Url.Port);
        Assert.Equal(first, answer.Choices[0].Message.Content);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"restart and retry took {clock.Elapsed}");
    }

    [Fact]
    public async Task Serve_PortInUse_OneErrorLineExit2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (code, _, error) = await Spar("serve", "--model", $"tiny={checkpoint.ModelDir}", "--port", port.ToString());

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal($"error: port {port} on 127.0.0.1 is in use; give another --port (0 picks a free one).", error.Trim());
    }

    [Theory]
    [InlineData("tiny", "--model 'tiny': expected NAME=DIR")]
    [InlineData("=DIR", "--model '=DIR': expected NAME=DIR")]
    [InlineData("tiny=/no/such/dir", "--model tiny=/no/such/dir: no directory /no/such/dir.")]
    public async Task Serve_BadModelSpec_OneErrorLineExit2(string spec, string message)
    {
        var (code, _, error) = await Spar("serve", "--model", spec, "--port", "0");

        Assert.Equal(ExitCodes.UserError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task Serve_OffLoopbackWithoutAllowRemote_Refused()
    {
        var (code, _, error) = await Spar("serve", "--model", $"tiny={checkpoint.ModelDir}", "--address", "0.0.0.0", "--port", "0");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("add --allow-remote", error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Serve_AllowRemote_OneWarning_KeyFromTheEnvironment401WithoutIt200WithIt(bool withKey)
    {
        const string key = "sk-serve-1";
        var environment = withKey ? new Dictionary<string, string> { [ServeCommand.ApiKeyVariable] = key } : new Dictionary<string, string>();
        using var served = await ServeProcess.StartAsync(environment, "--model", $"tiny={checkpoint.ModelDir}", "--address", "0.0.0.0", "--allow-remote", "--port", "0");
        var models = new Uri($"http://127.0.0.1:{served.Url.Port}/v1/models");
        using var http = new HttpClient();

        var warning = Assert.Single(served.Errors.Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Contains(withKey ? "plain HTTP" : "unauthenticated", warning);
        using var anonymous = await http.GetAsync(models);
        if (!withKey)
        {
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
            return;
        }
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var body = System.Text.Json.JsonDocument.Parse(await anonymous.Content.ReadAsStringAsync()))
        {
            Assert.Equal("authentication_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        using var keyed = new HttpRequestMessage(HttpMethod.Get, models);
        keyed.Headers.Authorization = new("Bearer", key);
        using var served200 = await http.SendAsync(keyed);
        Assert.Equal(HttpStatusCode.OK, served200.StatusCode);
    }

    [Fact]
    public async Task Serve_AdapterOnAnUnknownBase_OneErrorLineExit2()
    {
        var (code, _, error) = await Spar("serve", "--model", $"tiny={checkpoint.ModelDir}", "--adapter", $"tuned=other:{checkpoint.ModelDir}", "--port", "0");

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("no --model named 'other'", error);
    }

    [Fact]
    public async Task Serve_DirectoryWithoutAModel_OneErrorLineExit2()
    {
        var empty = Directory.CreateTempSubdirectory("spar-serve-empty-").FullName;
        try
        {
            var (code, _, error) = await Spar("serve", "--model", $"tiny={empty}", "--port", "0");

            Assert.Equal(ExitCodes.UserError, code);
            Assert.Equal($"error: {empty}: not a model directory (config.json not found)", error.Trim());
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void ParseModels_SeveralAndAdapters_NamesToFullPaths_DuplicatesRefused()
    {
        var dir = checkpoint.ModelDir;

        var models = ServeCommand.ParseModels([$"a={dir}", $"b = {dir}"]);
        var adapters = ServeCommand.ParseAdapters([$"t=a:{dir}"], models);
        var twice = Assert.Throws<Core.Errors.UserInputException>(() => ServeCommand.ParseModels([$"a={dir}", $"a={dir}"]));
        var taken = Assert.Throws<Core.Errors.UserInputException>(() => ServeCommand.ParseAdapters([$"b=a:{dir}"], models));

        Assert.Equal(["a", "b"], models.Keys);
        Assert.All(models.Values, v => Assert.Equal(Path.GetFullPath(dir), v));
        Assert.Equal(("t", "a", Path.GetFullPath(dir)), Assert.Single(adapters));
        Assert.Contains("given twice", twice.Message);
        Assert.Contains("already taken", taken.Message);
    }
}
