using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using SparOrleans.Core.Options;
using SparOrleans.OpenAi.Protocol;

namespace SparOrleans.OpenAi.Client;

/// <summary>
/// A client for any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp's server, Ollama, <c>spar serve</c>):
/// chat completions with seed, temperature, top_p, max_tokens and stop; model listing; vLLM's LoRA loading. Up to
/// <see cref="OpenAiClientOptions.MaxConcurrency"/> requests are in flight at once. Every call runs through one
/// Polly pipeline (retry → circuit breaker → per-attempt timeout, see <see cref="OpenAiClientOptions"/>), so a
/// restarting or overloaded server costs time, not the call; a 4xx other than 408/429 is the caller's mistake and
/// fails at once with the server's message.
/// </summary>
public sealed class OpenAiGenerationClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly SemaphoreSlim _slots;
    private readonly Uri _v1;

    /// <param name="handler">The HTTP handler to send through (tests); by default a pooled one sized to the concurrency.</param>
    public OpenAiGenerationClient(OpenAiClientOptions options, HttpMessageHandler? handler = null)
    {
        Options = options.Validated();
        _v1 = ApiRoot(options.BaseUrl);
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        handler ??= new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.MaxConcurrency,
            // A server restarted on the same address should not be talked to over dead pooled connections for long.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        // The pipeline's per-attempt timeout is the only one: HttpClient's own would cut across retries.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _pipeline = BuildPipeline(options);
    }

    public OpenAiClientOptions Options { get; }

    /// <summary>Where the API's routes are resolved from, always ending in <c>/v1/</c>.</summary>
    public Uri ApiBase => _v1;

    private static Uri ApiRoot(Uri baseUrl)
    {
        var text = baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(text.EndsWith("/v1", StringComparison.Ordinal) ? text + "/" : text + "/v1/");
    }

    /// <summary>Statuses worth another attempt: the server is busy, restarting or failed this once.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static ValueTask<bool> Failed(Outcome<HttpResponseMessage> outcome) => ValueTask.FromResult(outcome.Exception switch
    {
        HttpRequestException or IOException or TimeoutRejectedException => true,
        null => outcome.Result is { } response && IsTransient(response.StatusCode),
        _ => false,
    });

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(OpenAiClientOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        // Polly refuses a retry strategy of 0 attempts; no retries means no strategy.
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => Failed(args.Outcome),
                // The server knows best when it will have room again; null falls back to the backoff.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxRetryDelay)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakerBreakDuration,
                ShouldHandle = args => Failed(args.Outcome),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The wait a <c>Retry-After</c> header asks for (seconds or an HTTP date), at most <paramref name="cap"/>.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan cap)
    {
        var header = response?.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null ? null : wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;
    }

    /// <summary>One chat completion (<c>POST /v1/chat/completions</c>).</summary>
    public async Task<WireChatCompletion> CompleteAsync(WireChatRequest request, CancellationToken cancellationToken = default)
    {
        var text = await SendAsync(HttpMethod.Post, "chat/completions", JsonSerializer.Serialize(request, OpenAiJson.Options), cancellationToken);
        var completion = Parse<WireChatCompletion>(text, "chat/completions");
        return completion.Choices is { Count: > 0 } && completion.Choices.All(c => c.Message is not null)
            ? completion
            : throw new OpenAiClientException($"POST {_v1}chat/completions: the answer holds no choices: {Start(text)}");
    }

    /// <summary>The served models (<c>GET /v1/models</c>), LoRA adapters included on servers that list them.</summary>
    public async Task<IReadOnlyList<WireModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        var list = Parse<WireModelList>(await SendAsync(HttpMethod.Get, "models", null, cancellationToken), "models");
        return list.Data ?? throw new OpenAiClientException($"GET {_v1}models: no 'data' in the answer.");
    }

    /// <summary>
    /// vLLM's dynamic LoRA route (the server needs <c>--enable-lora</c>): afterwards requests naming
    /// <paramref name="name"/> are answered by the adapter in <paramref name="path"/>, a directory on the server.
    /// <paramref name="baseModel"/> is <c>spar serve</c>'s own field for a server holding several bases; vLLM has one.
    /// </summary>
    public Task LoadLoraAdapterAsync(string name, string path, string? baseModel = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "load_lora_adapter", JsonSerializer.Serialize(new WireLoadLora(name, path) { BaseModelName = baseModel }, OpenAiJson.Options), cancellationToken);

    public Task UnloadLoraAdapterAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "unload_lora_adapter", JsonSerializer.Serialize(new { lora_name = name }), cancellationToken);

    private async Task<string> SendAsync(HttpMethod method, string route, string? body, CancellationToken cancellationToken)
    {
        var url = new Uri(_v1, route);
        await _slots.WaitAsync(cancellationToken);
        try
        {
            var attempts = 0;
            HttpResponseMessage response;
            try
            {
                response = await _pipeline.ExecuteAsync(async token =>
                {
                    attempts++;
                    using var request = new HttpRequestMessage(method, url);
                    if (body is not null)
                    {
                        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                    }
                    if (Options.ApiKey is { } key)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    }
                    return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
                }, cancellationToken);
            }
            catch (BrokenCircuitException e)
            {
                throw new OpenAiClientException(
                    $"{method} {url}: the circuit breaker is open after repeated failures of the server; calls are refused for up to {Options.BreakerBreakDuration.TotalSeconds:0.#} s ({e.Message})",
                    inner: e);
            }
            catch (TimeoutRejectedException e)
            {
                throw new OpenAiClientException($"{method} {url}: no answer within {Options.AttemptTimeout.TotalSeconds:0.###} s, {Attempts(attempts)}.", inner: e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new OpenAiClientException($"{method} {url}: cannot reach the server ({e.Message}), {Attempts(attempts)}.", inner: e);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return text;
                }
                var status = (int)response.StatusCode;
                var message = ServerMessage(text);
                var tried = IsTransient(response.StatusCode) ? Attempts(attempts) : "not retried";
                throw new OpenAiClientException($"{method} {url}: {status} {response.ReasonPhrase} ({tried}): {message}", status, message);
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private static string Attempts(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    /// <summary>OpenAI's <c>error.message</c>, else FastAPI's <c>detail</c>, else the body's start.</summary>
    private static string ServerMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        return m.GetString()!;
                    }
                    if (error.ValueKind == JsonValueKind.String)
                    {
                        return error.GetString()!;
                    }
                }
                if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString()!;
                }
                if (root.TryGetProperty("detail", out var detail))
                {
                    return detail.ToString();
                }
            }
        }
        catch (JsonException)
        {
        }
        return Start(body);
    }

    private static string Start(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private T Parse<T>(string text, string route)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, OpenAiJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new OpenAiClientException($"{_v1}{route}: the answer is not what an OpenAI-compatible server sends ({e.Message}): {Start(text)}", inner: e);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _slots.Dispose();
    }
}
