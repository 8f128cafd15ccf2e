using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Core.Security;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.OpenAi.Protocol;

namespace SparOrleans.OpenAi.Server;

/// <summary>
/// An OpenAI-compatible HTTP server over the engine's <see cref="GenerationService"/>: <c>GET /v1/models</c>,
/// <c>POST /v1/chat/completions</c>, and vLLM's <c>POST /v1/load_lora_adapter</c> / <c>/v1/unload_lora_adapter</c>.
/// Every served name is a slot of one generation service, so requests for all models share one continuous batch.
/// Base models belong to the caller; adapters loaded here are clones the server owns and disposes.
/// </summary>
public sealed class OpenAiServer : IAsyncDisposable
{
    private sealed record Served(string Name, string Slot, LanguageModel Model, string? BaseName, string? Root, long Created);

    private readonly object _gate = new();
    private readonly Dictionary<string, Served> _models = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _adapters = new(1, 1);
    private readonly GenerationService _generation;
    private readonly OpenAiServerOptions _options;
    private readonly TextWriter? _log;
    private WebApplication? _app;
    private long _nextSlot;

    private OpenAiServer(IReadOnlyDictionary<string, LanguageModel> models, OpenAiServerOptions options, TextWriter? log)
    {
        _options = options;
        _log = log;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (name, model) in models)
        {
            _models[name] = new Served(name, name, model, null, model.SourceDirectory, now);
        }
        _generation = new GenerationService(models, new GenerationServiceOptions { MaxBatchSize = options.MaxBatchSize, Threads = options.Threads });
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:8000/</c>; the API is under <c>v1/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The names a request's <c>model</c> may take: base models and loaded adapters.</summary>
    public IReadOnlyList<string> ModelNames
    {
        get
        {
            lock (_gate)
            {
                return [.. _models.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>
    /// Serves <paramref name="models"/> under their names. A port in use or a bad option is a
    /// <see cref="UserInputException"/>; unexpected request failures are written to <paramref name="log"/>.
    /// </summary>
    public static async Task<OpenAiServer> StartAsync(IReadOnlyDictionary<string, LanguageModel> models, OpenAiServerOptions? options = null,
        TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        options = (options ?? new OpenAiServerOptions()).Validated();
        if (models.Count == 0)
        {
            throw new UserInputException("give at least one model to serve.");
        }
        if (models.Keys.FirstOrDefault(n => !ValidName(n)) is { } bad)
        {
            throw new UserInputException($"model name '{bad}' must be non-empty and hold no whitespace.");
        }
        var server = new OpenAiServer(models, options, log);
        try
        {
            await server.StartHttpAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task StartHttpAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = typeof(OpenAiServer).Assembly.GetName().Name });
        // Failures are answered in OpenAI's shape and logged by the error handler below; the host's own logs would
        // print stack traces for a user's bad request.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(_options.Address, _options.Port));
        var app = builder.Build();
        app.Use(HandleErrors);
        app.Use(Authenticate);
        app.MapGet("/v1/models", ListModels);
        app.MapPost("/v1/chat/completions", ChatCompletions);
        app.MapPost("/v1/load_lora_adapter", LoadLoraAdapter);
        app.MapPost("/v1/unload_lora_adapter", UnloadLoraAdapter);
        app.MapFallback(context => throw new OpenAiException(404, $"Unknown route: {context.Request.Method} {context.Request.Path}.", OpenAiException.NotFound));
        _app = app;
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new UserInputException($"port {_options.Port} on {_options.Address} is in use; give another --port (0 picks a free one).", e);
        }
        catch (IOException e)
        {
            throw new UserInputException($"cannot listen on {_options.Address}:{_options.Port}: {e.Message}", e);
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
    }

    private static bool ValidName(string name) => name.Length > 0 && !name.Any(char.IsWhiteSpace);

    /// <summary>
    /// Loads the PEFT adapter in <paramref name="directory"/> onto a clone of <paramref name="baseName"/> (the only
    /// base model when null) and serves it as <paramref name="name"/>. A whole checkpoint directory (a
    /// <c>config.json</c> and no <c>adapter_config.json</c>) is loaded as it is instead, listed and unloaded as an
    /// adapter of that base.
    /// </summary>
    public async Task LoadAdapterAsync(string name, string directory, string? baseName = null, CancellationToken cancellationToken = default)
    {
        if (!ValidName(name))
        {
            throw OpenAiException.BadRequest($"'lora_name' must be non-empty and hold no whitespace (got '{name}').", "lora_name");
        }
        await _adapters.WaitAsync(cancellationToken);
        try
        {
            Served parent;
            lock (_gate)
            {
                if (_models.ContainsKey(name))
                {
                    throw OpenAiException.BadRequest($"The lora adapter '{name}' has already been loaded.", "lora_name");
                }
                var bases = _models.Values.Where(m => m.BaseName is null).ToList();
                parent = baseName is not null
                    ? _models.TryGetValue(baseName, out var p) && p.BaseName is null ? p
                        : throw OpenAiException.BadRequest($"'{baseName}' is not a base model served here (bases: {string.Join(", ", bases.Select(b => b.Name))}).", "base_model_name")
                    : bases.Count == 1 ? bases[0]
                    : throw OpenAiException.BadRequest($"this server holds several base models ({string.Join(", ", bases.Select(b => b.Name))}); name one as 'base_model_name'.", "base_model_name");
            }
            if (!Directory.Exists(directory))
            {
                throw OpenAiException.BadRequest($"no adapter directory '{directory}' on the server.", "lora_path");
            }
            var adapted = await Task.Run(() =>
            {
                // Our extension (vLLM needs a real adapter): a run that trains full weights updates the server through
                // the same route, and the version is served and unloaded like an adapter.
                if (IsFullCheckpoint(directory))
                {
                    return ModelCheckpoint.Load(directory, parent.Model.Device.ToString(), version: name, dtype: parent.Model.Network.DType);
                }
                // A clone because attaching adapters changes the network in place, and the base goes on being served.
                var clone = parent.Model.Clone(version: name);
                try
                {
                    LoraAdapters.Load(clone.Network, directory);
                    return clone;
                }
                catch
                {
                    clone.Dispose();
                    throw;
                }
            }, cancellationToken);
            var slot = $"{name}#{Interlocked.Increment(ref _nextSlot)}";
            await _generation.SwapModel(slot, adapted);
            lock (_gate)
            {
                _models[name] = new Served(name, slot, adapted, parent.Name, Path.GetFullPath(directory), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            }
        }
        catch (UserInputException e)
        {
            throw OpenAiException.BadRequest($"cannot load adapter '{name}': {e.Message}", "lora_path");
        }
        finally
        {
            _adapters.Release();
        }
    }

    private static bool IsFullCheckpoint(string directory) =>
        File.Exists(Path.Combine(directory, ModelCheckpoint.ConfigFile)) && !File.Exists(Path.Combine(directory, LoraAdapters.ConfigFile));

    /// <summary>Stops serving adapter <paramref name="name"/>; requests already running on it finish first.</summary>
    public async Task UnloadAdapterAsync(string name, CancellationToken cancellationToken = default)
    {
        await _adapters.WaitAsync(cancellationToken);
        try
        {
            Served served;
            lock (_gate)
            {
                if (!_models.TryGetValue(name, out served!))
                {
                    throw new OpenAiException(404, $"The lora adapter '{name}' cannot be found.", OpenAiException.NotFound, "lora_name");
                }
                if (served.BaseName is null)
                {
                    throw OpenAiException.BadRequest($"'{name}' is a base model, not a LoRA adapter.", "lora_name");
                }
                // Removed first, under the lock requests take to submit, so no new request reaches the slot.
                _models.Remove(name);
            }
            // Pointing the slot back at its base retires the adapter: the task ends when its last request has.
            await _generation.SwapModel(served.Slot, _models.GetValueOrDefault(served.BaseName)?.Model ?? served.Model);
            served.Model.Dispose();
        }
        finally
        {
            _adapters.Release();
        }
    }

    private async Task HandleErrors(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: nobody to answer.
        }
        catch (Exception e)
        {
            var error = e switch
            {
                OpenAiException o => o,
                BadHttpRequestException b => new OpenAiException(b.StatusCode, b.Message),
                UserInputException u => OpenAiException.BadRequest(u.Message),
                _ => new OpenAiException(500, $"internal error: {e.Message}", OpenAiException.ServerError),
            };
            if (error.Status >= 500 && _log is not null)
            {
                await _log.WriteLineAsync($"{context.Request.Method} {context.Request.Path}: {e}");
            }
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await WriteJson(context, error.Body, error.Status);
            }
        }
    }

    private Task Authenticate(HttpContext context, RequestDelegate next)
    {
        if (_options.ApiKey is not { } key)
        {
            return next(context);
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            throw new OpenAiException(401, "Missing API key: send it as 'Authorization: Bearer KEY'.", OpenAiException.Authentication, code: "invalid_api_key");
        }
        return ApiKeys.Matches(header["Bearer ".Length..].Trim(), key)
            ? next(context)
            : throw new OpenAiException(401, "Incorrect API key provided.", OpenAiException.Authentication, code: "invalid_api_key");
    }

    private Task ListModels(HttpContext context)
    {
        List<WireModel> data;
        lock (_gate)
        {
            data = [.. _models.Values.OrderBy(m => m.Name, StringComparer.Ordinal)
                .Select(m => new WireModel(m.Name, "model", m.Created, "sparorleans") { Parent = m.BaseName, Root = m.Root })];
        }
        return WriteJson(context, new WireModelList("list", data));
    }

    private async Task ChatCompletions(HttpContext context)
    {
        using var body = await ReadJson(context);
        var call = ChatCall.Parse(body.RootElement);
        Served served;
        lock (_gate)
        {
            served = _models.TryGetValue(call.Model, out var s) ? s : throw OpenAiException.UnknownModel(call.Model);
        }
        // Tokenized outside the lock: a long prompt through a real tokenizer should not hold up other requests.
        var prompt = served.Model.Template.Encode(call.Messages).Tokens;
        var positions = served.Model.Config.MaxPositionEmbeddings;
        var left = positions - prompt.Length;
        var maxTokens = call.MaxTokens ?? left;
        if (left < 1 || maxTokens > left)
        {
            throw new OpenAiException(400,
                $"This model's maximum context length is {positions} tokens. However, you requested {prompt.Length + maxTokens} tokens ({prompt.Length} in the messages, {maxTokens} in the completion).",
                param: call.MaxTokens is null ? "messages" : "max_tokens", code: "context_length_exceeded");
        }
        Task<GenerationResult>[] running;
        lock (_gate)
        {
            // Submitted under the lock that unloading takes: an adapter unloaded since it was found is not used.
            if (!_models.TryGetValue(call.Model, out var still) || !ReferenceEquals(still, served))
            {
                throw OpenAiException.UnknownModel(call.Model);
            }
            // Without a seed each call differs, as OpenAI's do; with one, choice i uses seed + i so n > 1 differ too.
            var seed = call.Seed ?? Random.Shared.NextInt64();
            running = [.. Enumerable.Range(0, call.N).Select(i => _generation.GenerateAsync(served.Slot, GenerationRequest.FromTokens(prompt) with
            {
                MaxNewTokens = maxTokens,
                Temperature = call.Temperature,
                TopP = call.TopP,
                Seed = unchecked(seed + i),
                StopStrings = call.Stop,
            }, context.RequestAborted))];
        }
        var results = await Task.WhenAll(running);
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var completionTokens = results.Sum(r => r.TokenIds.Count);
        var usage = new WireUsage(prompt.Length, completionTokens, prompt.Length + completionTokens);
        if (!call.Stream)
        {
            await WriteJson(context, new WireChatCompletion(id, "chat.completion", created, call.Model,
                [.. results.Select((r, i) => new WireChoice(i, new WireMessage("assistant", r.Text), Finish(r)))], usage));
            return;
        }
        // The generation service hands back whole results, so the stream carries each choice's text in one chunk:
        // the protocol is OpenAI's, the first content arrives when the generation is done.
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        for (var i = 0; i < results.Length; i++)
        {
            await WriteEvent(context, new WireChunk(id, "chat.completion.chunk", created, call.Model, [new WireChunkChoice(i, new WireDelta(Role: "assistant", Content: ""), null)]));
            await WriteEvent(context, new WireChunk(id, "chat.completion.chunk", created, call.Model, [new WireChunkChoice(i, new WireDelta(Content: results[i].Text), null)]));
            await WriteEvent(context, new WireChunk(id, "chat.completion.chunk", created, call.Model, [new WireChunkChoice(i, new WireDelta(), Finish(results[i]))]));
        }
        if (call.IncludeUsage)
        {
            await WriteEvent(context, new WireChunk(id, "chat.completion.chunk", created, call.Model, []) { Usage = usage });
        }
        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static string Finish(GenerationResult result) => result.FinishReason == FinishReason.Length ? "length" : "stop";

    private async Task LoadLoraAdapter(HttpContext context)
    {
        using var body = await ReadJson(context);
        var root = body.RootElement;
        var name = RequiredString(root, "lora_name");
        var path = RequiredString(root, "lora_path");
        var baseName = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("base_model_name", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
        await LoadAdapterAsync(name, path, baseName, context.RequestAborted);
        // vLLM answers with this plain text; clients written for it may show it.
        await context.Response.WriteAsync($"Success: LoRA adapter '{name}' added successfully.", context.RequestAborted);
    }

    private async Task UnloadLoraAdapter(HttpContext context)
    {
        using var body = await ReadJson(context);
        var name = RequiredString(body.RootElement, "lora_name");
        await UnloadAdapterAsync(name, context.RequestAborted);
        await context.Response.WriteAsync($"Success: LoRA adapter '{name}' removed successfully.", context.RequestAborted);
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0
            ? value.GetString()!
            : throw OpenAiException.BadRequest($"'{name}' is required: a non-empty string.", name);

    private static async Task<JsonDocument> ReadJson(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"We could not parse the JSON body of your request: {e.Message}");
        }
    }

    private static async Task WriteJson<T>(HttpContext context, T value, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, OpenAiJson.Options, context.RequestAborted);
    }

    private static async Task WriteEvent(HttpContext context, WireChunk chunk)
    {
        await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk, OpenAiJson.Options)}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopping.Token);
            await _app.DisposeAsync();
        }
        await _generation.DisposeAsync();
        lock (_gate)
        {
            foreach (var adapter in _models.Values.Where(m => m.BaseName is not null))
            {
                adapter.Model.Dispose();
            }
            _models.Clear();
        }
    }
}
