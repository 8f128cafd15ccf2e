using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Placement.Filtering;
using Orleans.TestingHost;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces;

namespace SparOrleans.Integration.Tests.Placement;

[Alias("tests.role-probe.gpu")]
public interface IGpuProbeGrain : IGrainWithIntegerKey
{
    Task<string> WhereAsync();
}

[Alias("tests.role-probe.cpu")]
public interface ICpuProbeGrain : IGrainWithIntegerKey
{
    Task<string> WhereAsync();
}

[RequireSiloRole(SiloRoles.Gpu)]
public sealed class GpuProbeGrain(ILocalSiloDetails silo) : Grain, IGpuProbeGrain
{
    public Task<string> WhereAsync() => Task.FromResult(silo.Name);
}

[RequireSiloRole(SiloRoles.Cpu)]
public sealed class CpuProbeGrain(ILocalSiloDetails silo) : Grain, ICpuProbeGrain
{
    public Task<string> WhereAsync() => Task.FromResult(silo.Name);
}

public sealed class SiloRolePlacementTests : IAsyncLifetime
{
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            silo.UseSiloRoles(options.SiloName == "Silo_0" ? [SiloRoles.Gpu] : [SiloRoles.Cpu]);
            silo.Services.AddSparSerialization();
        });
        builder.ConfigureClient(client => client.Services.AddSparSerialization());
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Activation_GpuRoleGrains_LandOnlyOnGpuSilo()
    {
        var silos = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            RoleMetadata.CallWhenPropagatedAsync(() => _cluster.Client.GetGrain<IGpuProbeGrain>(i).WhereAsync())));
        Assert.All(silos, s => Assert.Equal("Silo_0", s));
    }

    [Fact]
    public async Task Activation_CpuRoleGrains_LandOnlyOnCpuSilo()
    {
        var silos = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            RoleMetadata.CallWhenPropagatedAsync(() => _cluster.Client.GetGrain<ICpuProbeGrain>(i).WhereAsync())));
        Assert.All(silos, s => Assert.Equal("Silo_1", s));
    }

    [Fact]
    public void FilterStrategies_OfGrainTypesWithDifferentRoles_KeepTheirOwnRole()
    {
        // Orleans initializes the strategy it resolves from the container with each grain type's properties: one
        // shared instance (a singleton registration) took the role of whichever type came last, for every type.
        var resolver = _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<PlacementFilterStrategyResolver>();
        var gpu = resolver.GetPlacementFilterStrategies(GrainType.Create("gpuprobe"));
        var cpu = resolver.GetPlacementFilterStrategies(GrainType.Create("cpuprobe"));

        Assert.Equal(SiloRoles.Gpu, Assert.IsType<SiloRoleFilterStrategy>(Assert.Single(gpu)).Role);
        Assert.Equal(SiloRoles.Cpu, Assert.IsType<SiloRoleFilterStrategy>(Assert.Single(cpu)).Role);
    }
}

internal static class RoleMetadata
{
    /// <summary>
    /// Silo metadata reaches the other silos asynchronously after a join, so the first placements may find no silo
    /// with the role yet; retry that one failure, bounded.
    /// </summary>
    public static async Task<T> CallWhenPropagatedAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (OrleansException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
