using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using SparOrleans.Core.Options;
using SparOrleans.Interfaces;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// One silo of a multi-silo SPaR cluster (<c>spar silo</c>): membership on Redis or Azure Table storage (see
/// <see cref="ClusterEndpoints"/>), blob grain storage, roles. Binds to <see cref="ClusterSiloOptions.Address"/>
/// (127.0.0.1 by default) and advertises <see cref="ClusterSiloOptions.AdvertisedAddress"/>.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterSilo(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public string Name => _host.Services.GetRequiredService<ILocalSiloDetails>().Name;

    public static async Task<ClusterSilo> StartAsync(ClusterSiloOptions options, LogLevel minimumLogLevel = LogLevel.Warning,
        Action<ISiloBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        options.Validated();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SparConsole(minimumLogLevel);
        var started = false;
        builder.Logging.OrleansLogs(minimumLogLevel < LogLevel.Warning ? minimumLogLevel : LogLevel.Error, () => started);
        // A failed start surfaces as the exception the caller turns into one error line; the host's own log of it
        // would print a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.UseOrleans(silo =>
        {
            options.Cluster.UseClustering(silo);
            silo.ConfigureClusterNetwork(options);
            silo.ConfigureSpar(options.Spar);
            silo.ConfigureSelfHealing(options);
            configure?.Invoke(silo);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        started = true;
        return new ClusterSilo(host);
    }

    public ValueTask DisposeAsync() => HostShutdown.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(30));
}

/// <summary>A cluster silo: what it is (<see cref="Spar"/>), where its cluster is, and its endpoints.</summary>
public sealed record ClusterSiloOptions : IValidatedOptions
{
    public required ClusterEndpoints Cluster { get; init; }

    /// <summary>Roles, storage and models; storage is required in a cluster (state must outlive any silo).</summary>
    public required SparSiloOptions Spar { get; init; }

    /// <summary>Address to bind. Default 127.0.0.1; a machine's LAN address (or 0.0.0.0 with <see cref="Advertise"/>) in a real deployment.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Address other silos and clients reach this one at; default <see cref="Address"/>, which must then not be 0.0.0.0 or ::.</summary>
    public IPAddress? Advertise { get; init; }

    public IPAddress AdvertisedAddress => Advertise ?? Address;

    /// <summary>Silo-to-silo port (1–65535). Default 11111.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Client gateway port (1–65535). Default 30000.</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>
    /// Orleans' membership probe timeout (0.2–60 s); null keeps Orleans' default (5 s). A dead silo is declared dead
    /// after about three missed probes, and only then do its grains (a run's coordinator) move: tests shorten it.
    /// </summary>
    public TimeSpan? ProbeTimeout { get; init; }

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(SiloPort), SiloPort, 1, 65535)
        .InRange(nameof(GatewayPort), GatewayPort, 1, 65535)
        .Require(SiloPort != GatewayPort, $"the silo port and the gateway port must differ (both {SiloPort})")
        .Require(!ClusterSecurity.IsAny(AdvertisedAddress), $"a silo bound to {Address} must advertise a concrete address: give --advertise ADDRESS")
        .Require(Spar.Storage is not null, "a cluster silo needs --storage: grain state must outlive the silo")
        .Require(ProbeTimeout is null || (ProbeTimeout.Value.TotalSeconds >= 0.2 && ProbeTimeout.Value.TotalSeconds <= 60),
            $"the membership probe timeout (--probe-timeout) must be between 0.2 and 60 seconds (got {ProbeTimeout?.TotalSeconds})")
        .Concat(Cluster.Problems())
        .Concat(Spar.Problems());
}

/// <summary>A client of a multi-silo cluster (<c>spar run --cluster</c>): gateways found in its membership store.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterConnection> ConnectAsync(ClusterEndpoints cluster, CancellationToken cancellationToken = default)
    {
        cluster.Validated();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SparConsole(LogLevel.Warning);
        var started = false;
        builder.Logging.OrleansLogs(LogLevel.Error, () => started);
        // A failed start surfaces as the exception the caller turns into one error line; the host's own log of it
        // would print a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.UseOrleansClient(client =>
        {
            cluster.UseClustering(client);
            client.Services.AddSparSerialization();
            client.UseClusterTls(cluster.Tls);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        started = true;
        return new ClusterConnection(host);
    }

    public ValueTask DisposeAsync() => HostShutdown.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(10));
}
