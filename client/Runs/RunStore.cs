using System.Text.Json;
using SparOrleans.Core.Errors;
using SparOrleans.Grains.Prompts;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Reads stored runs and their prompts straight from the state directory, without starting a silo (starting one
/// would resume a run that was interrupted, which `status`, `list`, `export` and `report` must not do).
/// </summary>
public sealed class RunStore(string stateDirectory)
{
    private const string Prefix = "state/run/";
    private readonly DirectoryBlobStore _blobs = new(stateDirectory);

    public async Task<IReadOnlyList<StoredRun>> ListAsync(CancellationToken cancellationToken)
    {
        var runs = new List<StoredRun>();
        await foreach (var name in _blobs.ListAsync(Prefix, cancellationToken))
        {
            if (await ReadBlobAsync(name, cancellationToken) is { } run)
            {
                runs.Add(run);
            }
        }
        return [.. runs.OrderBy(r => r.Created)];
    }

    public async Task<StoredRun> GetAsync(string runId, CancellationToken cancellationToken) =>
        await ReadBlobAsync($"{Prefix}{Uri.EscapeDataString(runId)}.json", cancellationToken)
        ?? throw new UserInputException($"No run '{runId}' in {stateDirectory}. `spar list` shows the stored runs (use --home if they live elsewhere).");

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
        return state is null ? null : new PromptSnapshot(promptKey, state.Phase, state.Prompt, state.Judged, state.Search, state.Outcome);
    }

    private async Task<PromptGrain.PromptState?> ReadPromptAsync(string key, CancellationToken cancellationToken)
    {
        var name = BlobGrainStorage.BlobName("state", GrainId.Create("prompt", key));
        try
        {
            var blob = await _blobs.ReadAsync(name, cancellationToken);
            return blob is null
                ? null
                : JsonSerializer.Deserialize<PromptGrain.PromptState>(blob.Data.ToStream(), BlobGrainStorage.StateJson)
                  ?? throw new InvalidDataException("it is empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            // `export`, `watch` and `report` read every prompt: one damaged file is named, not a JSON parser's trace.
            throw new UserInputException($"Stored prompt state {Path.Combine(stateDirectory, name)} is corrupt ({e.Message.TrimEnd('.')}): restore it from a backup, or delete it (the prompt then counts as not started).", e);
        }
    }

    private async Task<StoredRun?> ReadBlobAsync(string name, CancellationToken cancellationToken)
    {
        StoredBlob? blob;
        try
        {
            blob = await _blobs.ReadAsync(name, cancellationToken);
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
            state = JsonSerializer.Deserialize<StoredRunState>(blob.Data.ToStream(), BlobGrainStorage.StateJson);
        }
        catch (JsonException e)
        {
            throw new UserInputException($"Stored run state {Path.Combine(stateDirectory, name)} is corrupt ({e.Message}): restore it from a backup, or delete it to forget the run.", e);
        }
        if (state is null)
        {
            throw new UserInputException($"Stored run state {Path.Combine(stateDirectory, name)} is empty: delete it to forget the run.");
        }
        var id = Uri.UnescapeDataString(name[Prefix.Length..^".json".Length]);
        return new StoredRun(id, state.Status, state.Phase, state.Iteration, state.Created, state.Updated, state.Spec, state.Reports ?? [], state.Error,
            state.PromptIds ?? []);
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
