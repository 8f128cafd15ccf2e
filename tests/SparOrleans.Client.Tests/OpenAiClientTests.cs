using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SparOrleans.Core.Options;
using SparOrleans.OpenAi.Client;
using SparOrleans.OpenAi.Protocol;

namespace SparOrleans.Client.Tests;

/// <summary>
/// A fault-injecting stand-in for an OpenAI-compatible server: each call to <c>/v1/chat/completions</c> is answered by
/// the script's entry for that call number (the last entry repeats), so a test says "503 twice, then 200".
/// </summary>
internal sealed class FaultyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<int, HttpContext, Task> _script;
    private int _calls, _inFlight, _maxInFlight;

    private FaultyServer(Func<int, HttpContext, Task> script)
    {
        _script = script;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/v1/chat/completions", async context =>
        {
            var call = Interlocked.Increment(ref _calls);
            var now = Interlocked.Increment(ref _inFlight);
            InterlockedMax(ref _maxInFlight, now);
            try
            {
                await _script(call, context);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    public Uri Address { get; private set; } = null!;

    public int Calls => Volatile.Read(ref _calls);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public static async Task<FaultyServer> StartAsync(Func<int, HttpContext, Task> script)
    {
        var server = new FaultyServer(script);
        await server._app.StartAsync();
        server.Address = new Uri(server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public static Task Ok(HttpContext context) => context.Response.WriteAsJsonAsync(
        new WireChatCompletion("chatcmpl-1", "chat.completion", 0, "m", [new WireChoice(0, new WireMessage("assistant", "fine"), "stop")], new WireUsage(1, 1, 2)),
        OpenAiJson.Options);

    public static Task Status(HttpContext context, int status, string message, string? retryAfter = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
        return context.Response.WriteAsJsonAsync(new WireErrorBody(new WireError(message, "test_error", null, null)), OpenAiJson.Options);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class OpenAiClientTests
{
    private static readonly WireChatRequest Request = new("m", [new WireMessage("user", "hi")]) { MaxTokens = 4, Seed = 1 };

    private static OpenAiGenerationClient Client(FaultyServer server, Func<OpenAiClientOptions, OpenAiClientOptions>? change = null)
    {
        var options = new OpenAiClientOptions
        {
            BaseUrl = server.Address,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromSeconds(5),
            AttemptTimeout = TimeSpan.FromSeconds(10),
            MaxRetries = 5,
        };
        return new OpenAiGenerationClient(change?.Invoke(options) ?? options);
    }

    [Fact]
    public async Task ServiceUnavailableWithRetryAfter_RetriedAfterTheServersWait_ThenSucceeds()
    {
        await using var server = await FaultyServer.StartAsync((call, c) => call <= 2 ? FaultyServer.Status(c, 503, "warming up", "1") : FaultyServer.Ok(c));
        using var client = Client(server);
        var clock = Stopwatch.StartNew();

        var completion = await client.CompleteAsync(Request);

        Assert.Equal("fine", completion.Choices[0].Message.Content);
        Assert.Equal(3, server.Calls);
        // Two waits of the header's 1 s, where the backoff alone would have waited ~10–20 ms.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.95), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task TooManyRequests_RetryAfterHonoured()
    {
        await using var server = await FaultyServer.StartAsync((call, c) => call == 1 ? FaultyServer.Status(c, 429, "slow down", "1") : FaultyServer.Ok(c));
        using var client = Client(server);
        var clock = Stopwatch.StartNew();

        await client.CompleteAsync(Request);

        Assert.Equal(2, server.Calls);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task ConnectionClosedMidRequest_Retried()
    {
        await using var server = await FaultyServer.StartAsync((call, c) =>
        {
            if (call <= 2)
            {
                c.Abort();
                return Task.CompletedTask;
            }
            return FaultyServer.Ok(c);
        });
        using var client = Client(server);

        var completion = await client.CompleteAsync(Request);

        Assert.Equal("fine", completion.Choices[0].Message.Content);
        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task SlowerThanTheAttemptTimeout_RetriedThenSucceeds_AlwaysSlow_ClearTimeoutError()
    {
        await using var once = await FaultyServer.StartAsync(async (call, c) =>
        {
            if (call == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(3), c.RequestAborted);
            }
            await FaultyServer.Ok(c);
        });
        await using var always = await FaultyServer.StartAsync(async (_, c) => await Task.Delay(TimeSpan.FromSeconds(3), c.RequestAborted));
        using var client = Client(once, o => o with { AttemptTimeout = TimeSpan.FromMilliseconds(300) });
        using var hopeless = Client(always, o => o with { AttemptTimeout = TimeSpan.FromMilliseconds(200), MaxRetries = 1 });

        await client.CompleteAsync(Request);
        var e = await Assert.ThrowsAsync<OpenAiClientException>(() => hopeless.CompleteAsync(Request));

        Assert.Equal(2, once.Calls);
        Assert.Contains("no answer within 0.2 s, 2 attempts", e.Message);
    }

    [Theory]
    [InlineData(400, "'temperature' must be a number.")]
    [InlineData(404, "The model 'm' does not exist.")]
    [InlineData(422, "unprocessable")]
    public async Task ClientErrors_NotRetried_ClearErrorWithStatusAndServerMessage(int status, string message)
    {
        await using var server = await FaultyServer.StartAsync((_, c) => FaultyServer.Status(c, status, message));
        using var client = Client(server);

        var e = await Assert.ThrowsAsync<OpenAiClientException>(() => client.CompleteAsync(Request));

        Assert.Equal(1, server.Calls);
        Assert.Equal(status, e.Status);
        Assert.Equal(message, e.ServerMessage);
        Assert.Contains($": {status} ", e.Message);
        Assert.Contains("not retried", e.Message);
        Assert.EndsWith(message, e.Message);
    }

    [Fact]
    public async Task ServerErrorsUntilRetriesRunOut_ErrorNamesStatusAttemptsAndMessage()
    {
        await using var server = await FaultyServer.StartAsync((_, c) => FaultyServer.Status(c, 500, "boom"));
        using var client = Client(server, o => o with { MaxRetries = 2 });

        var e = await Assert.ThrowsAsync<OpenAiClientException>(() => client.CompleteAsync(Request));

        Assert.Equal(3, server.Calls);
        Assert.Equal(500, e.Status);
        Assert.Contains("500 Internal Server Error (3 attempts): boom", e.Message);
    }

    [Fact]
    public async Task RepeatedFailures_CircuitOpens_LaterCallsRefusedWithoutReachingTheServer()
    {
        await using var server = await FaultyServer.StartAsync((_, c) => FaultyServer.Status(c, 502, "bad gateway"));
        using var client = Client(server, o => o with
        {
            MaxRetries = 10,
            BreakerMinimumThroughput = 3,
            BreakerFailureRatio = 0.5,
            BreakerBreakDuration = TimeSpan.FromSeconds(30),
        });

        var first = await Assert.ThrowsAsync<OpenAiClientException>(() => client.CompleteAsync(Request));
        var callsWhenOpened = server.Calls;
        var second = await Assert.ThrowsAsync<OpenAiClientException>(() => client.CompleteAsync(Request));

        Assert.Equal(3, callsWhenOpened);
        Assert.Equal(callsWhenOpened, server.Calls);
        Assert.Contains("circuit breaker is open", first.Message);
        Assert.Contains("circuit breaker is open", second.Message);
    }

    [Fact]
    public async Task ConcurrencyLimit_NeverMoreInFlightThanAllowed()
    {
        await using var server = await FaultyServer.StartAsync(async (_, c) =>
        {
            await Task.Delay(50);
            await FaultyServer.Ok(c);
        });
        using var client = Client(server, o => o with { MaxConcurrency = 4 });

        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => client.CompleteAsync(Request)));

        Assert.Equal(32, server.Calls);
        Assert.InRange(server.MaxInFlight, 2, 4);
    }

    [Theory]
    [InlineData("ftp://host/", "base_url must be an absolute http:// or https:// URL")]
    [InlineData("http://host/", "max_concurrency must be between 1 and 1024", 0)]
    [InlineData("http://host/", "max_concurrency must be between 1 and 1024", 1025)]
    public void Options_Invalid_ClearMessage(string url, string problem, int concurrency = 8)
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = new Uri(url), MaxConcurrency = concurrency }));

        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("http://h:8000", "http://h:8000/v1/")]
    [InlineData("http://h:8000/v1", "http://h:8000/v1/")]
    [InlineData("http://h/proxy/", "http://h/proxy/v1/")]
    public void BaseUrl_RootOrV1_BothResolveToTheApi(string url, string api)
    {
        using var client = new OpenAiGenerationClient(new OpenAiClientOptions { BaseUrl = new Uri(url) });

        Assert.Equal(api, client.ApiBase.ToString());
    }
}
