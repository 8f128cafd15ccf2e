using SparOrleans.Models.Generation;
using SparOrleans.Core.Options;
using SparOrleans.Grains.Placement;
using SparOrleans.Grains.Runs;
using SparOrleans.Storage;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// What a SPaR silo is: its roles (<c>gpu</c> hosts the models, <c>cpu</c> hosts prompt and tree grains; both by
/// default, as in the embedded run), where grain state lives (null = in memory, for tests), and its model host.
/// </summary>
public sealed record SparSiloOptions : IValidatedOptions
{
    public IReadOnlyList<string> Roles { get; init; } = [SiloRoles.Gpu, SiloRoles.Cpu];

    public GrainStorageOptions? Storage { get; init; }

    public ModelHostOptions Models { get; init; } = new();

    /// <summary>Where a GPU-role silo keeps bootstrapped M_0/R_0 for reuse by later runs (null = no cache).</summary>
    public string? BootstrapCacheDirectory { get; init; }

    /// <summary>Train M_0/R_0 even when the cache holds them, and replace the cached entries with the new ones.</summary>
    public bool RefreshBootstrapCache { get; init; }

    /// <summary>How long a run this silo coordinates retries a failing phase before it fails (`spar silo --retry-limit`).</summary>
    public RunRetryOptions Retry { get; init; } = RunRetryOptions.Default;

    /// <summary>How often a running run's reminder ticks (`spar silo --reminder-period`).</summary>
    public RunReminderOptions Reminder { get; init; } = RunReminderOptions.Default;

    public bool IsGpu => Roles.Contains(SiloRoles.Gpu);

    public IEnumerable<string> Problems()
    {
        var problems = new ProblemList()
            .Require(Roles.Count > 0, "a silo needs at least one role (gpu, cpu)")
            .Require(Roles.All(r => r is SiloRoles.Gpu or SiloRoles.Cpu), $"unknown role in '{string.Join(",", Roles)}': roles are gpu and cpu");
        return problems.Concat(Storage?.Problems() ?? []).Concat(Models.Problems())
            .Concat(new ProblemList().Nested(nameof(Retry), Retry).Nested(nameof(Reminder), Reminder));
    }
}
