using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SparOrleans.Storage;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// A whole SPaR cluster in this process: one silo with both roles on loopback, grain state in a local directory
/// (durable: a killed run continues with <c>spar resume</c>), and the co-hosted client. The embedded default.
/// </summary>
public sealed class EmbeddedSilo : IAsyncDisposable
{
    /// <summary>The cluster identity of every embedded silo; a client joins with these and the gateway port.</summary>
    public const string ServiceId = "spar";

    /// <inheritdoc cref="ServiceId"/>
    public const string ClusterId = "spar-embedded";

    private readonly IHost _host;

    private EmbeddedSilo(IHost host, int gatewayPort)
    {
        _host = host;
        GatewayPort = gatewayPort;
    }

    /// <summary>The loopback port where clients (e.g. <c>spar watch</c>) connect.</summary>
    public int GatewayPort { get; }

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public IServiceProvider Services => _host.Services;

    /// <param name="stateDirectory">Where grain state lives (blob-like files with ETags).</param>
    /// <param name="minimumLogLevel">Silo logs below this level are dropped (the CLI draws its own progress).</param>
    public static async Task<EmbeddedSilo> StartAsync(string stateDirectory, LogLevel minimumLogLevel = LogLevel.Warning,
        Action<ISiloBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(minimumLogLevel);
        builder.Logging.AddFilter("Orleans", minimumLogLevel < LogLevel.Warning ? minimumLogLevel : LogLevel.Error);
        var gatewayPort = FreePort();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: gatewayPort, serviceId: ServiceId, clusterId: ClusterId);
            silo.ConfigureSpar(new SparSiloOptions { Storage = new BlobStorageOptions { LocalDirectory = stateDirectory } });
            configure?.Invoke(silo);
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new EmbeddedSilo(host, gatewayPort);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
