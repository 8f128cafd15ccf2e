using System.Text.Json;
using SparOrleans.Core.Errors;
using SparOrleans.Grains.Prompts;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Reads stored runs and their prompts straight from grain storage, without starting a silo (starting one would
/// resume a run that was interrupted, which `status`, `list`, `export` and `report` must not do): the embedded
/// silo's state directory, or a cluster's blob container as the official Azure provider wrote it.
/// </summary>
public sealed class RunStore
{
    private const string State = "state";
    private readonly IBlobStore _blobs;
    private readonly GrainStateLayout _layout;
    private readonly string _where;

    /// <summary>The embedded silo's state directory.</summary>
    public RunStore(string stateDirectory)
        : this(new DirectoryBlobStore(stateDirectory), GrainStateLayout.Directory, stateDirectory)
    {
    }

    private RunStore(IBlobStore blobs, GrainStateLayout layout, string where)
    {
        _blobs = blobs;
        _layout = layout;
        _where = where;
    }

    /// <summary>The grain storage a silo was given (<c>spar silo --storage</c>): a cluster's blob container, or a directory.</summary>
    public static RunStore For(GrainStorageOptions storage)
    {
        if (storage.ConnectionString is not { } connection)
        {
            return new RunStore(storage.LocalDirectory!);
        }
        var blobs = new AzureBlobStore(connection, storage.ContainerName);
        return new RunStore(blobs, GrainStateLayout.AzureBlob, blobs.Describe);
    }

    public async Task<IReadOnlyList<StoredRun>> ListAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await Reachable(async () =>
        {
            await foreach (var name in _blobs.ListAsync(_layout.Prefix(State, "run"), cancellationToken))
            {
                names.Add(name);
            }
            return true;
        });
        var runs = new List<StoredRun>();
        foreach (var name in names)
        {
            if (await ReadRunAsync(_layout.KeyOf(State, "run", name), cancellationToken) is { } run)
            {
                runs.Add(run);
            }
        }
        return [.. runs.OrderBy(r => r.Created)];
    }

    public async Task<StoredRun> GetAsync(string runId, CancellationToken cancellationToken) =>
        await ReadRunAsync(runId, cancellationToken)
        ?? throw new UserInputException($"No run '{runId}' in {_where}. `spar list` shows the stored runs ({(IsDirectory ? "use --home if they live elsewhere" : "with the same --storage and --container")}).");

    /// <summary>
    /// The stored state of every prompt of <paramref name="iteration"/> (1-based), in prompt order. A prompt whose
    /// state was never written (its iteration has just started) has <see cref="PromptPhase.New"/> and no data.
    /// </summary>
    public async Task<IReadOnlyList<StoredPrompt>> GetPromptsAsync(StoredRun run, int iteration, CancellationToken cancellationToken)
    {
        if (iteration < 1 || iteration > run.PromptIds.Count)
        {
            throw new UserInputException(run.PromptIds.Count == 0
                ? $"Run '{run.Id}' has not started an iteration yet (iteration 0 is the bootstrap, which has no prompts)."
                : $"Run '{run.Id}' has no iteration {iteration}: iterations 1-{run.PromptIds.Count} have started.");
        }
        var prompts = new List<StoredPrompt>();
        foreach (var promptId in run.PromptIds[iteration - 1])
        {
            var key = PromptKeys.Prompt(run.Id, iteration, promptId);
            var state = await ReadPromptAsync(key, cancellationToken) ?? new PromptGrain.PromptState();
            prompts.Add(new StoredPrompt(promptId, iteration, state));
        }
        return prompts;
    }

    /// <summary>A prompt grain's stored state as the snapshot the grain would return; null if it has none yet.</summary>
    public async Task<PromptSnapshot?> GetPromptAsync(string promptKey, CancellationToken cancellationToken)
    {
        var state = await ReadPromptAsync(promptKey, cancellationToken);
        return state?.Snapshot(promptKey);
    }

    private async Task<PromptGrain.PromptState?> ReadPromptAsync(string key, CancellationToken cancellationToken)
    {
        var name = _layout.BlobName(State, "prompt", key);
        try
        {
            var blob = await ReadAsync(name, cancellationToken);
            return blob is null
                ? null
                : JsonSerializer.Deserialize<PromptGrain.PromptState>(blob.Data.ToStream(), GrainStateJson.Options)
                  ?? throw new InvalidDataException("it is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            // `export`, `watch` and `report` read every prompt: one damaged file is named, not a JSON parser's trace.
            throw new UserInputException($"Stored prompt state {Where(name)} is corrupt ({e.Message.TrimEnd('.')}): restore it from a backup, or delete it (the prompt then counts as not started).", e);
        }
    }

    private async Task<StoredRun?> ReadRunAsync(string id, CancellationToken cancellationToken)
    {
        var name = _layout.BlobName(State, "run", id);
        StoredBlob? blob;
        try
        {
            blob = await ReadAsync(name, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw new UserInputException($"Stored run state is corrupt: {e.Message} Restore it from a backup, or delete it to forget the run.", e);
        }
        if (blob is null)
        {
            return null;
        }
        StoredRunState? state;
        try
        {
            state = JsonSerializer.Deserialize<StoredRunState>(blob.Data.ToStream(), GrainStateJson.Options);
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Stored run state {Where(name)} is corrupt ({e.Message}): restore it from a backup, or delete it to forget the run.", e);
        }
        if (state is null)
        {
            throw new UserInputException($"Stored run state {Where(name)} is empty: delete it to forget the run.");
        }
        return new StoredRun(id, state.Status, state.Phase, state.Iteration, state.Created, state.Updated, state.Spec, state.Reports ?? [], state.Error,
            state.PromptIds ?? []);
    }

    /// <summary>A state blob; null when it is missing or empty (the official provider's cleared state).</summary>
    private Task<StoredBlob?> ReadAsync(string name, CancellationToken cancellationToken) =>
        Reachable(async () => await _blobs.ReadAsync(name, cancellationToken) is { Data.IsEmpty: false } blob ? blob : null);

    private bool IsDirectory => _layout == GrainStateLayout.Directory;

    private string Where(string name) => IsDirectory ? Path.Combine(_where, name) : $"{_where}/{name}";

    /// <summary>A storage call; an unreachable store or a missing container is one clear line, not an Azure exception.</summary>
    private async Task<T> Reachable<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            throw new UserInputException($"No grain state at {_where}: check --storage and --container (the silos' own).", e);
        }
        catch (Exception e) when (e is Azure.RequestFailedException or AggregateException || StorageFaults.IsTransient(e) && e is not IOException)
        {
            throw new UserInputException(new StorageUnreachableException(_where, e).Message, e);
        }
    }

    /// <summary>The fields of the run grain's persisted state that tools read (the grain's class is internal to it).</summary>
    private sealed record StoredRunState(
        RunSpec? Spec, RunStatusKind Status, RunPhase Phase, int Iteration, List<IterationReport>? Reports, string? Error,
        DateTimeOffset Created, DateTimeOffset Updated, List<List<string>>? PromptIds);
}

/// <summary>A stored run; <see cref="PromptIds"/>[t - 1] are the prompt ids of iteration t (one list per started iteration).</summary>
public sealed record StoredRun(
    string Id, RunStatusKind Status, RunPhase Phase, int Iteration, DateTimeOffset Created, DateTimeOffset Updated,
    RunSpec? Spec, IReadOnlyList<IterationReport> Reports, string? Error, IReadOnlyList<IReadOnlyList<string>> PromptIds)
{
    /// <summary>The last iteration whose report is stored (it finished training and evaluation); 0 when none has.</summary>
    public int LastFinishedIteration => Reports.Count == 0 ? 0 : Reports.Max(r => r.Iteration);

    /// <summary>The prompt grain keys of an iteration, as <see cref="IRunGrain.GetPromptKeysAsync"/> gives them.</summary>
    public IReadOnlyList<string> PromptKeys(int iteration) =>
        iteration >= 1 && iteration <= PromptIds.Count
            ? [.. PromptIds[iteration - 1].Select(p => Interfaces.Prompts.PromptKeys.Prompt(Id, iteration, p))]
            : [];
}

/// <summary>One prompt of a stored iteration: its grain's persisted state (samples, votes, tree, outcome).</summary>
public sealed record StoredPrompt(string PromptId, int Iteration, PromptGrain.PromptState State);
