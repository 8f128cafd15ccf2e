using System.Text.Json;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Reads stored runs straight from the state directory, without starting a silo (starting one would resume a run
/// that was interrupted, which `status` and `list` must not do).
/// </summary>
public sealed class RunStore(string stateDirectory)
{
    private const string Prefix = "state/run/";
    private const string PromptPrefix = "state/prompt/";
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

    /// <summary>A prompt grain's stored state as the snapshot the grain would return; null if it has none yet.</summary>
    public async Task<PromptSnapshot?> GetPromptAsync(string promptKey, CancellationToken cancellationToken)
    {
        var name = $"{PromptPrefix}{Uri.EscapeDataString(promptKey)}.json";
        var blob = await _blobs.ReadAsync(name, cancellationToken);
        if (blob is null)
        {
            return null;
        }
        var state = JsonSerializer.Deserialize<StoredPromptState>(blob.Data.ToStream(), BlobGrainStorage.StateJson)
            ?? throw new InvalidDataException($"Prompt state {name} is empty.");
        return new PromptSnapshot(promptKey, state.Phase, state.Prompt, state.Judged ?? [], state.Search, state.Outcome);
    }

    private async Task<StoredRun?> ReadBlobAsync(string name, CancellationToken cancellationToken)
    {
        var blob = await _blobs.ReadAsync(name, cancellationToken);
        if (blob is null)
        {
            return null;
        }
        var state = JsonSerializer.Deserialize<StoredRunState>(blob.Data.ToStream(), BlobGrainStorage.StateJson)
            ?? throw new InvalidDataException($"Run state {name} is empty.");
        var id = Uri.UnescapeDataString(name[Prefix.Length..^".json".Length]);
        return new StoredRun(id, state.Status, state.Phase, state.Iteration, state.Created, state.Updated, state.Spec, state.Reports ?? [], state.Error)
        {
            PromptIds = state.PromptIds ?? [],
        };
    }

    /// <summary>The fields of the run grain's persisted state that tools read (the grain's class is internal to it).</summary>
    private sealed record StoredRunState(
        RunSpec? Spec, RunStatusKind Status, RunPhase Phase, int Iteration, List<IterationReport>? Reports, string? Error,
        DateTimeOffset Created, DateTimeOffset Updated, List<List<string>>? PromptIds);

    /// <summary>The fields of the prompt grain's persisted state that tools read.</summary>
    private sealed record StoredPromptState(
        PromptPhase Phase, PromptSpec? Prompt, List<JudgedSample>? Judged, SearchState? Search, PromptOutcome? Outcome);
}

public sealed record StoredRun(
    string Id, RunStatusKind Status, RunPhase Phase, int Iteration, DateTimeOffset Created, DateTimeOffset Updated,
    RunSpec? Spec, IReadOnlyList<IterationReport> Reports, string? Error)
{
    /// <summary>The prompt ids of each started iteration (entry 0 = iteration 1).</summary>
    public IReadOnlyList<IReadOnlyList<string>> PromptIds { get; init; } = [];

    /// <summary>The prompt grain keys of an iteration, as <see cref="IRunGrain.GetPromptKeysAsync"/> gives them.</summary>
    public IReadOnlyList<string> PromptKeys(int iteration) =>
        iteration >= 1 && iteration <= PromptIds.Count
            ? [.. PromptIds[iteration - 1].Select(p => Interfaces.Prompts.PromptKeys.Prompt(Id, iteration, p))]
            : [];
}
