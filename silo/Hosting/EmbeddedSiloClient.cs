using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SparOrleans.Interfaces;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// An Orleans client in another process joined to an <see cref="EmbeddedSilo"/> through its loopback gateway (see
/// <see cref="SiloEndpoints"/>): how <c>spar watch</c> reads a run while it runs.
/// </summary>
public sealed class EmbeddedSiloClient : IAsyncDisposable
{
    private readonly IHost _host;

    private EmbeddedSiloClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects once; throws (an Orleans connection exception) when no silo answers on the port.</summary>
    public static async Task<EmbeddedSiloClient> ConnectAsync(int gatewayPort, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(gatewayPort, EmbeddedSilo.ServiceId, EmbeddedSilo.ClusterId);
            client.Services.AddSparSerialization();
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new EmbeddedSiloClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _host.StopAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or Orleans.Runtime.OrleansException or ObjectDisposedException)
        {
            // The silo may already be gone: there is nothing to close gracefully.
        }
        finally
        {
            _host.Dispose();
        }
    }
}
