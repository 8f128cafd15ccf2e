using System.Text.Json;
using SparOrleans.Core.Errors;
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
        return new StoredRun(id, state.Status, state.Phase, state.Iteration, state.Created, state.Updated, state.Spec, state.Reports ?? [], state.Error);
    }

    /// <summary>The fields of the run grain's persisted state that tools read (the grain's class is internal to it).</summary>
    private sealed record StoredRunState(
        RunSpec? Spec, RunStatusKind Status, RunPhase Phase, int Iteration, List<IterationReport>? Reports, string? Error,
        DateTimeOffset Created, DateTimeOffset Updated);
}

public sealed record StoredRun(
    string Id, RunStatusKind Status, RunPhase Phase, int Iteration, DateTimeOffset Created, DateTimeOffset Updated,
    RunSpec? Spec, IReadOnlyList<IterationReport> Reports, string? Error);
