using Orleans.Configuration;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// What lets a cluster run continue without a client when its coordinator's silo dies: the run grain's reminder
/// lives in the cluster's Redis (it outlives every silo), and the membership probes that declare a silo dead.
/// </summary>
public static class ClusterSelfHealing
{
    public static ISiloBuilder ConfigureSelfHealing(this ISiloBuilder silo, ClusterSiloOptions options)
    {
        silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(options.Cluster.Redis));
        if (options.ProbeTimeout is { } probe)
        {
            silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = probe);
        }
        return silo;
    }
}
