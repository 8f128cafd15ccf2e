using Orleans.Configuration;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// What lets a cluster run continue without a client when its coordinator's silo dies: the membership probes that
/// declare a silo dead. The run grain's reminder lives beside membership (<see cref="ClusterEndpoints.UseClustering(ISiloBuilder)"/>),
/// so it outlives every silo.
/// </summary>
public static class ClusterSelfHealing
{
    public static ISiloBuilder ConfigureSelfHealing(this ISiloBuilder silo, ClusterSiloOptions options)
    {
        if (options.ProbeTimeout is { } probe)
        {
            silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = probe);
        }
        return silo;
    }
}
