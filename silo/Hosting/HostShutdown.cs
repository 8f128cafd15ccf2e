using Microsoft.Extensions.Hosting;

namespace SparOrleans.Silo.Hosting;

/// <summary>Stops a host within a time limit and disposes it even when stopping fails or times out.</summary>
internal static class HostShutdown
{
    public static async ValueTask StopAndDisposeAsync(IHost host, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await host.StopAsync(timeout.Token);
        }
        finally
        {
            host.Dispose();
        }
    }
}
