using SparOrleans.Models.Generation;
using Orleans.Concurrency;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Grains.Generation;

/// <summary>
/// Stateless workers on GPU-role silos only; each call goes to the silo's <see cref="IGenerationBackend"/>, whose continuous
/// batching merges it with every other caller's work. Reentrant so one activation accepts many concurrent calls.
/// </summary>
[StatelessWorker(maxLocalWorkers: 1)]
[Reentrant]
[RequireSiloRole(SiloRoles.Gpu)]
public sealed class GenerationGrain(IGenerationBackend backend, ILocalSiloDetails silo) : Grain, IGenerationGrain
{
    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken = default)
    {
        var results = await backend.GenerateAsync(model, calls, cancellationToken);
        // Texts of another version (another run's model, or last iteration's) would be trained on as this one's without
        // a trace: a backend that answers with one fails the call instead (not a transient fault: a retry would repeat it).
        if (results.FirstOrDefault(r => r.ModelVersion != model.Version) is { } stray)
        {
            throw new InvalidOperationException(
                $"generation for model version {model.Version} was answered by version {stray.ModelVersion} on silo {silo.Name}: refusing texts of another model");
        }
        return results.Select(r => r with { Silo = silo.Name }).ToList();
    }
}
