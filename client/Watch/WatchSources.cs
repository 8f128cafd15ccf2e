using SparOrleans.Client.Runs;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>Where a watcher reads a run: the grains of a running silo, or the state files of a stopped run.</summary>
public interface IWatchSource
{
    Task<RunStatus> StatusAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> PromptKeysAsync(int iteration, CancellationToken cancellationToken);

    /// <summary>The prompt's snapshot; null when it has no state yet.</summary>
    Task<PromptSnapshot?> PromptAsync(string key, CancellationToken cancellationToken);
}

/// <summary>A running run, read through its grains.</summary>
public sealed class LiveWatchSource(IGrainFactory grains, string runId) : IWatchSource
{
    public IRunGrain Run => grains.GetGrain<IRunGrain>(runId);

    public Task<RunStatus> StatusAsync(CancellationToken cancellationToken) => Run.GetStatusAsync();

    public Task<IReadOnlyList<string>> PromptKeysAsync(int iteration, CancellationToken cancellationToken) => Run.GetPromptKeysAsync(iteration);

    public async Task<PromptSnapshot?> PromptAsync(string key, CancellationToken cancellationToken) =>
        await grains.GetGrain<IPromptGrain>(key).GetSnapshotAsync();
}

/// <summary>A run with no silo, read from its state files (never starting a silo, which would resume it).</summary>
public sealed class StoredWatchSource(RunStore store, string runId) : IWatchSource
{
    private StoredRun? _run;

    public async Task<RunStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var run = _run = await store.GetAsync(runId, cancellationToken);
        return new RunStatus(run.Id, run.Status, run.Phase, run.Iteration, 0, 0, "", run.Reports, run.Error, run.Created, run.Updated, run.Spec);
    }

    public async Task<IReadOnlyList<string>> PromptKeysAsync(int iteration, CancellationToken cancellationToken) =>
        (_run ?? await store.GetAsync(runId, cancellationToken)).PromptKeys(iteration);

    public Task<PromptSnapshot?> PromptAsync(string key, CancellationToken cancellationToken) => store.GetPromptAsync(key, cancellationToken);
}

/// <summary>Reads one frame from a source.</summary>
public static class WatchFrames
{
    /// <param name="iteration">The iteration to show; null = the run's current one, or its last once past it.</param>
    /// <param name="promptId">The prompt whose tree to draw (see <see cref="WatchFrame.SelectPrompt"/>).</param>
    /// <param name="verifier">The run's ground truth for the verdicts shown beside the votes (<see cref="WatchFrame.Verifier"/>).</param>
    public static async Task<WatchFrame> ReadAsync(IWatchSource source, int? iteration, string? promptId, string sourceNote, bool live,
        IResponseVerifier? verifier, CancellationToken cancellationToken)
    {
        var status = await source.StatusAsync(cancellationToken);
        var (shown, keys) = await IterationAsync(source, status, iteration, cancellationToken);
        var snapshots = await Task.WhenAll(keys.Select(k => source.PromptAsync(k, cancellationToken)));
        var prompts = snapshots.OfType<PromptSnapshot>().ToList();
        return new WatchFrame(status, shown, keys.Count, prompts, WatchFrame.SelectPrompt(prompts, promptId), null, sourceNote) { Live = live, Verifier = verifier };
    }

    private static async Task<(int, IReadOnlyList<string>)> IterationAsync(IWatchSource source, RunStatus status, int? requested, CancellationToken cancellationToken)
    {
        if (requested is { } wanted)
        {
            var keys = await source.PromptKeysAsync(wanted, cancellationToken);
            return keys.Count > 0
                ? (wanted, keys)
                : throw new Core.Errors.UserInputException($"--iteration {wanted}: run '{status.RunId}' has not started that iteration (it is at iteration {status.Iteration}).");
        }
        // A finished run (or one between iterations) is one past its last started iteration.
        for (var t = status.Iteration; t >= Math.Max(1, status.Iteration - 1); t--)
        {
            var keys = await source.PromptKeysAsync(t, cancellationToken);
            if (keys.Count > 0)
            {
                return (t, keys);
            }
        }
        return (0, []);
    }
}
