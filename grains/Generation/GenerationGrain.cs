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
        return results.Select(r => r with { Silo = silo.Name }).ToList();
    }
}
