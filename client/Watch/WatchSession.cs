using Orleans.Runtime;
using SparOrleans.Client.Runs;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Client.Watch;

/// <summary>What to watch.</summary>
/// <param name="Once">Show one frame and return (scripts, tests).</param>
/// <param name="PollInterval">How often to look for a restarted silo's endpoint file (default 500 ms).</param>
/// <param name="MinFrameInterval">Frames closer together than this are skipped, except the last (default 250 ms).</param>
public sealed record WatchRequest(string RunId, string? PromptId = null, int? Iteration = null, bool Once = false)
{
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MinFrameInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>Where frames and notes go (the terminal, plain text, JSON lines).</summary>
public interface IWatchSink
{
    void Frame(WatchFrame frame);

    /// <summary>A line about the connection ("the silo went away", "reconnected").</summary>
    void Note(string message);
}

/// <summary>
/// <c>spar watch</c>'s loop: joins the silo advertised for the run (<see cref="SiloEndpoints"/>), follows
/// <see cref="IRunGrain.WatchAsync"/> and emits a frame per change; when that silo goes away it says so and waits for
/// a new endpoint (a <c>spar resume</c>) to reconnect by itself. With no silo at all it shows the stored state once.
/// </summary>
public sealed class WatchSession(string stateDirectory, WatchRequest request, IWatchSink sink, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ThroughputMeter _meter = new();

    // The client holds the same verifiers as the silos (no silo needed to read a stored run's truth).
    private static readonly IResponseVerifier Verifier = new SparOrleans.Silo.Runs.RunResponseVerifier();

    /// <summary>Runs until the run ends (or once); returns the run's final status kind.</summary>
    public async Task<RunStatusKind> RunAsync(CancellationToken cancellationToken)
    {
        var store = new RunStore(stateDirectory);
        if (SiloEndpoints.Read(stateDirectory, request.RunId) is null)
        {
            // An unknown run is a user error before anything else (a just-started run has its silo already).
            await store.GetAsync(request.RunId, cancellationToken);
        }
        SiloEndpoint? lost = null;
        while (true)
        {
            var endpoint = SiloEndpoints.Read(stateDirectory, request.RunId);
            if (endpoint is null || endpoint == lost)
            {
                // Nothing to wait for: no silo ever, one frame asked, or the run is over (its silo left as it ended).
                if (lost is null || request.Once || (await store.GetAsync(request.RunId, cancellationToken)).Status is RunStatusKind.Completed or RunStatusKind.Failed)
                {
                    return await ShowStoredAsync(store, cancellationToken);
                }
                await Task.Delay(request.PollInterval, _clock, cancellationToken);
                continue;
            }
            try
            {
                if (await FollowAsync(endpoint, reconnected: lost is not null, cancellationToken) is { } final)
                {
                    return final;
                }
            }
            catch (Exception e) when (IsConnectionLoss(e) && !cancellationToken.IsCancellationRequested)
            {
                sink.Note($"the silo of {request.RunId} (process {endpoint.ProcessId}) went away: {Short(e)}. Waiting for it to come back (spar resume {request.RunId})...");
            }
            lost = endpoint;
        }
    }

    /// <summary>Follows the run on one silo; null when the stream ended without a final status (the silo left).</summary>
    private async Task<RunStatusKind?> FollowAsync(SiloEndpoint endpoint, bool reconnected, CancellationToken cancellationToken)
    {
        await using var connection = await EmbeddedSiloClient.ConnectAsync(endpoint.GatewayPort, cancellationToken: cancellationToken);
        var source = new LiveWatchSource(connection.Client, request.RunId);
        var note = $"live: silo process {endpoint.ProcessId}, gateway 127.0.0.1:{endpoint.GatewayPort}"
            + (endpoint.WebAddress is { } web ? $" · page {new Uri(web, WatchWeb.RunPath(request.RunId))}" : "");
        if (reconnected)
        {
            sink.Note($"reconnected to {request.RunId} (silo process {endpoint.ProcessId}).");
        }
        if (request.Once)
        {
            var frame = await WatchFrames.ReadAsync(source, request.Iteration, request.PromptId, note, live: true, Verifier, cancellationToken);
            sink.Frame(frame);
            return frame.Status.Status;
        }
        // A stopping silo withdraws its endpoint file first: stop waiting on it then, not after a 30 s call timeout.
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watchdog = WatchEndpointAsync(endpoint, gone);
        var updates = source.Run.WatchAsync(gone.Token).GetAsyncEnumerator(gone.Token);
        try
        {
            var last = DateTimeOffset.MinValue;
            while (await Guard(updates.MoveNextAsync().AsTask(), gone.Token, cancellationToken))
            {
                var status = updates.Current;
                var ended = status.Status is RunStatusKind.Completed or RunStatusKind.Failed;
                var now = _clock.GetUtcNow();
                if (!ended && now - last < request.MinFrameInterval)
                {
                    continue;
                }
                last = now;
                var frame = await Guard(WatchFrames.ReadAsync(source, request.Iteration, request.PromptId, note, live: true, Verifier, gone.Token), gone.Token, cancellationToken);
                var o = frame.Overview;
                sink.Frame(frame with { Throughput = _meter.Observe(now, frame.Iteration, o.Done, o.Expansions) });
                if (ended)
                {
                    return status.Status;
                }
            }
            return null;
        }
        finally
        {
            await gone.CancelAsync();
            await watchdog;
            // Closing the stream tells the silo; a silo that is gone cannot answer, so do not wait long for it.
            await Task.WhenAny(updates.DisposeAsync().AsTask(), Task.Delay(TimeSpan.FromSeconds(1), _clock, CancellationToken.None));
        }
    }

    /// <summary>Awaits a call, turning "the endpoint went away" (not the user's Ctrl-C) into a connection loss.</summary>
    private static async Task<T> Guard<T>(Task<T> call, CancellationToken gone, CancellationToken user)
    {
        try
        {
            return await call.WaitAsync(gone);
        }
        catch (OperationCanceledException) when (!user.IsCancellationRequested)
        {
            _ = call.ContinueWith(t => t.Exception, TaskScheduler.Default); // observe its late failure
            throw new SiloGoneException();
        }
    }

    private async Task WatchEndpointAsync(SiloEndpoint endpoint, CancellationTokenSource gone)
    {
        try
        {
            while (!gone.IsCancellationRequested)
            {
                await Task.Delay(request.PollInterval, _clock, gone.Token);
                if (SiloEndpoints.Read(stateDirectory, request.RunId) != endpoint)
                {
                    await gone.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped with the follow.
        }
    }

    /// <summary>The silo withdrew its endpoint (it is stopping) or its process ended.</summary>
    private sealed class SiloGoneException() : IOException("its endpoint was withdrawn (the silo is stopping)");

    private async Task<RunStatusKind> ShowStoredAsync(RunStore store, CancellationToken cancellationToken)
    {
        var source = new StoredWatchSource(store, request.RunId);
        var status = await source.StatusAsync(cancellationToken);
        var note = status.Status switch
        {
            RunStatusKind.Running or RunStatusKind.Created => $"not running: no live silo for this run; stored state as of {status.Updated:u}. Continue it with: spar resume {request.RunId}",
            _ => $"not running ({status.Status.ToString().ToLowerInvariant()}): stored state as of {status.Updated:u}",
        };
        var frame = await WatchFrames.ReadAsync(source, request.Iteration, request.PromptId, note, live: false, Verifier, cancellationToken);
        sink.Frame(frame);
        return frame.Status.Status;
    }

    private static bool IsConnectionLoss(Exception e) =>
        e is OrleansException or TimeoutException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException
        || (e is OperationCanceledException && e.InnerException is not null);

    private static string Short(Exception e) => e.Message.Split('\n')[0].Trim();
}
