using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SparOrleans.Interfaces.Generation;
using SparOrleans.OpenAi.Client;
using SparOrleans.OpenAi.Protocol;

namespace SparOrleans.Models.Generation;

/// <summary>Settings of <see cref="OpenAiBackend"/>; the defaults are production's, tests shorten the waits.</summary>
public sealed record OpenAiBackendOptions
{
    /// <summary>The environment variable a silo reads the servers' API key from (it never travels in a run's state).</summary>
    public const string ApiKeyVariable = OpenAiPreflight.ApiKeyVariable;

    public string? ApiKey { get; init; }

    /// <summary>
    /// Requests in flight per server. Higher than the client's default: the server batches them continuously, and a
    /// generation grain hands over a whole tree level at once.
    /// </summary>
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>How long a restarted server may take to list the version's name.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Makes the HTTP handler each server's client sends through (tests count requests); null: the client's own.</summary>
    public Func<HttpMessageHandler>? Handler { get; init; }

    /// <summary>Options with the API key from <see cref="ApiKeyVariable"/> when it is set.</summary>
    public static OpenAiBackendOptions FromEnvironment() =>
        new() { ApiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null };
}

/// <summary>
/// Generation on OpenAI-compatible servers for model versions with <see cref="ModelRef.Served"/> set: every call is
/// one chat completion, all of a batch's calls in flight together (the client bounds them per server). Before a
/// version's first call it is made current on its server once, as <see cref="ServedModel.Update"/> says; callers
/// arriving meanwhile wait for the same work. For a restart the version it was done for is remembered with the name,
/// so asking for another version (even an older one again) restarts. The memory is this silo's: with several GPU
/// silos each runs the restart command once per version, and a second adapter load is answered "already loaded".
/// </summary>
public sealed class OpenAiBackend(OpenAiBackendOptions options, ILogger<OpenAiBackend> logger) : IGenerationBackend, IDisposable
{
    /// <summary>vLLM and <c>spar serve</c> both answer a second load of one name with a 400 saying this.</summary>
    private const string AlreadyLoaded = "has already been loaded";

    private readonly ConcurrentDictionary<string, Lazy<OpenAiGenerationClient>> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string BaseUrl, string Name), SemaphoreSlim> _gates = new();
    private readonly Dictionary<(string BaseUrl, string Name), Update> _updates = new();
    // The shared update work outlives any one caller's cancellation; only disposal stops it. Never disposed itself:
    // work still winding down may read its token.
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>The work that made <see cref="Version"/> current under one (BaseUrl, Name); null for updates that do not depend on the version.</summary>
    private sealed record Update(string? Version, Task Work);

    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
        var served = model.Served ?? throw new ArgumentException($"model {model.Version} is not served by an OpenAI-compatible server (Served is null).", nameof(model));
        var update = await EnsureCurrentAsync(model, served, cancellationToken);
        return await Task.WhenAll(calls.Select(call => GenerateOneAsync(model, served, update, call, cancellationToken)));
    }

    /// <param name="update">The update this call relied on; after a 404 only that one is forgotten, so calls failing together reload once.</param>
    private async Task<Generated> GenerateOneAsync(ModelRef model, ServedModel served, Update? update, GenerationCall call, CancellationToken cancellationToken)
    {
        var client = Client(served.BaseUrl);
        var request = new WireChatRequest(served.Name, [.. call.Prompt.Select(t => new WireMessage(t.Role, t.Content))])
        {
            Temperature = call.Temperature,
            TopP = call.TopP,
            MaxTokens = call.MaxNewTokens,
            // The wire's seed is a long, as the call's: vLLM and spar serve take the whole range, so no folding.
            Seed = call.Seed,
        };
        WireChatCompletion completion;
        try
        {
            completion = await client.CompleteAsync(request, cancellationToken);
        }
        catch (OpenAiClientException e) when (e.Status == 404 && served.Update == ServedUpdate.LoraAdapter)
        {
            // The server restarted and lost its adapters: load this one again and try the call once more.
            logger.LogWarning("{Url} does not know adapter {Name} any more ({Message}); loading it again", served.BaseUrl, served.Name, e.ServerMessage);
            Forget(served, update);
            await EnsureCurrentAsync(model, served, cancellationToken);
            completion = await client.CompleteAsync(request, cancellationToken);
        }
        return new Generated(completion.Choices[0].Message.Content, completion.Usage?.CompletionTokens ?? 0, "", model.Version);
    }

    private OpenAiGenerationClient Client(string baseUrl) =>
        _clients.GetOrAdd(baseUrl, url => new Lazy<OpenAiGenerationClient>(() => new OpenAiGenerationClient(new OpenAiClientOptions
        {
            BaseUrl = new Uri(url),
            ApiKey = options.ApiKey,
            MaxConcurrency = options.MaxConcurrency,
        }, options.Handler?.Invoke()))).Value;

    /// <summary>Drops <paramref name="seen"/> unless another caller has already replaced it, so concurrent failures redo the work once.</summary>
    private void Forget(ServedModel served, Update? seen)
    {
        lock (_updates)
        {
            if (seen is not null && _updates.TryGetValue((served.BaseUrl, served.Name), out var current) && ReferenceEquals(current, seen))
            {
                _updates.Remove((served.BaseUrl, served.Name));
            }
        }
    }

    /// <summary>Makes the version current (once, whoever asks) and returns the update that did it; null for <see cref="ServedUpdate.None"/>.</summary>
    private async Task<Update?> EnsureCurrentAsync(ModelRef model, ServedModel served, CancellationToken cancellationToken)
    {
        if (served.Update == ServedUpdate.None)
        {
            return null;
        }
        // A restart keeps the name across versions, so which version it was done for is part of what is remembered.
        var version = served.Update == ServedUpdate.Restart ? model.Version : null;
        var key = (served.BaseUrl, served.Name);
        Update update;
        lock (_updates)
        {
            if (!_updates.TryGetValue(key, out update!) || update.Version != version || update.Work.IsFaulted || update.Work.IsCanceled)
            {
                update = new Update(version, RunSerializedAsync(key, model, served));
                _updates[key] = update;
            }
        }
        try
        {
            await update.Work.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A failed update is not remembered: the next caller tries again.
            Forget(served, update);
            throw;
        }
        return update;
    }

    private async Task RunSerializedAsync((string BaseUrl, string Name) key, ModelRef model, ServedModel served)
    {
        // Yield first, so the caller stores the task under its lock before the work can finish.
        await Task.Yield();
        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(_disposed.Token);
        try
        {
            if (served.Update == ServedUpdate.LoraAdapter)
            {
                await LoadAdapterAsync(model, served, _disposed.Token);
            }
            else
            {
                await RestartAsync(model, served, _disposed.Token);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task LoadAdapterAsync(ModelRef model, ServedModel served, CancellationToken cancellationToken)
    {
        try
        {
            await Client(served.BaseUrl).LoadLoraAdapterAsync(served.Name, model.CheckpointDirectory, served.BaseName, cancellationToken);
            logger.LogInformation("Loaded {Version} as adapter {Name} on {Url} from {Directory}", model.Version, served.Name, served.BaseUrl, model.CheckpointDirectory);
        }
        catch (OpenAiClientException e) when (e.Status == 400 && e.ServerMessage?.Contains(AlreadyLoaded, StringComparison.OrdinalIgnoreCase) == true)
        {
            // Loaded before (by another silo, or by this one before a failure it did not see the end of).
        }
    }

    private async Task RestartAsync(ModelRef model, ServedModel served, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(served.RestartCommand))
        {
            throw new InvalidOperationException($"model {model.Version} is to be made current on {served.BaseUrl} by a restart, but it has no restart command.");
        }
        logger.LogInformation("Restarting {Url} on {Version} ({Directory}): {Command}", served.BaseUrl, model.Version, model.CheckpointDirectory, served.RestartCommand);
        await RunRestartCommandAsync(model, served, cancellationToken);
        await WaitForNameAsync(served, cancellationToken);
        logger.LogInformation("{Url} serves {Name} at {Version}", served.BaseUrl, served.Name, model.Version);
    }

    private static async Task RunRestartCommandAsync(ModelRef model, ServedModel served, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(served.RestartCommand!);
        start.Environment["SPAR_MODEL_ROLE"] = model.Role == ModelRole.Actor ? "actor" : "refiner";
        start.Environment["SPAR_MODEL_DIR"] = model.CheckpointDirectory;
        start.Environment["SPAR_MODEL_NAME"] = served.Name;
        start.Environment["SPAR_MODEL_VERSION"] = model.Version;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start /bin/sh for the restart command '{served.RestartCommand}'.");
        // Both pipes drained while it runs: a command that fills one would otherwise block forever.
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await output;
        var stderr = await error;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"the restart command for {model.Version} ('{served.RestartCommand}') exited with {process.ExitCode}: {Tail(stderr)}");
        }
    }

    private static string Tail(string text)
    {
        text = text.Trim();
        return text.Length == 0 ? "(no stderr)" : text.Length <= 2000 ? text : "…" + text[^2000..];
    }

    /// <summary>Polls the model list with a client that does not retry: a server still coming up is the normal case here.</summary>
    private async Task WaitForNameAsync(ServedModel served, CancellationToken cancellationToken)
    {
        using var probe = new OpenAiGenerationClient(new OpenAiClientOptions
        {
            BaseUrl = new Uri(served.BaseUrl),
            ApiKey = options.ApiKey,
            MaxRetries = 0,
            AttemptTimeout = TimeSpan.FromSeconds(10),
        });
        var deadline = Stopwatch.StartNew();
        var last = "no answer yet";
        while (true)
        {
            try
            {
                var models = await probe.ListModelsAsync(cancellationToken);
                if (models.Any(m => m.Id == served.Name))
                {
                    return;
                }
                last = $"it serves: {string.Join(", ", models.Select(m => m.Id))}";
            }
            catch (OpenAiClientException e)
            {
                last = e.Message;
            }
            if (deadline.Elapsed >= options.ReadyTimeout)
            {
                throw new TimeoutException(
                    $"the server at {served.BaseUrl} did not list model '{served.Name}' within {options.ReadyTimeout.TotalSeconds:0.#} s of its restart ({last}).");
            }
            await Task.Delay(options.PollInterval, cancellationToken);
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Dispose();
        }
        _clients.Clear();
    }
}
