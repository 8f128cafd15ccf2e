using System.Net;
using System.Net.Sockets;
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

    /// <summary>
    /// Connects once. Throws <see cref="IOException"/> at once when nothing listens on the port (Orleans itself
    /// would retry for minutes), and <see cref="TimeoutException"/> when the client has not joined within
    /// <paramref name="timeout"/> (default 30 s).
    /// </summary>
    public static async Task<EmbeddedSiloClient> ConnectAsync(int gatewayPort, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using (var probe = new TcpClient())
        {
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, gatewayPort, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new IOException($"no silo answers on 127.0.0.1:{gatewayPort} ({e.SocketErrorCode})", e);
            }
        }
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering(gatewayPort, EmbeddedSilo.ServiceId, EmbeddedSilo.ClusterId);
            client.Services.AddSparSerialization();
        });
        var host = builder.Build();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await host.StartAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new TimeoutException($"no Orleans silo joined on 127.0.0.1:{gatewayPort} within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds:F0} s");
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
