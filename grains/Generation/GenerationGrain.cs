using Orleans.Concurrency;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Grains.Generation;

/// <summary>
/// Stateless workers on GPU-role silos only; each call goes to the silo's <see cref="ModelHost"/>, whose continuous
/// batching merges it with every other caller's work. Reentrant so one activation accepts many concurrent calls.
/// </summary>
[StatelessWorker(maxLocalWorkers: 1)]
[Reentrant]
[RequireSiloRole(SiloRoles.Gpu)]
public sealed class GenerationGrain(ModelHost host, ILocalSiloDetails silo) : Grain, IGenerationGrain
{
    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken = default)
    {
        var results = await host.GenerateAsync(model, calls, cancellationToken);
        return results.Select(r => new Generated(r.Text, r.TokenIds.Count, silo.Name, r.ModelVersion)).ToList();
    }
}
