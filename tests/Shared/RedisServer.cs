using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SparOrleans.Tests.Shared;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, no persistence (Debian's package: CI installs it with
/// apt-get). <see cref="IsInstalled"/> says whether tests that need it can run here.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static string? Executable { get; } = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static bool IsInstalled => Executable is not null;

    public static async Task<RedisServer> StartAsync()
    {
        var port = FreePort();
        var process = await ServerProcess.StartAsync(
            Executable ?? throw new InvalidOperationException("redis-server is not installed (apt-get install -y redis-server)."),
            ["--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no"],
            "Ready to accept connections", "redis-server", TimeSpan.FromSeconds(30));
        return new RedisServer(process, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that is skipped (with the reason) where redis-server is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisServer.IsInstalled)
        {
            Skip = "redis-server is not installed (apt-get install -y redis-server)";
        }
    }
}
