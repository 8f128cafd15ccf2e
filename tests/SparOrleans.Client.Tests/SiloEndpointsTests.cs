using System.Diagnostics;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Client.Tests;

public sealed class SiloEndpointsTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"spar-endpoints-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private static SiloEndpoint Endpoint(int pid, int port = 30000) =>
        new("run/1", port, pid, DateTimeOffset.UnixEpoch, new Uri("http://127.0.0.1:8080/"));

    [Fact]
    public void Advertise_ThenRead_RoundTripsAndDisposeWithdrawsIt()
    {
        var endpoint = Endpoint(Environment.ProcessId);
        using (SiloEndpoints.Advertise(_state, endpoint))
        {
            Assert.Equal(endpoint, SiloEndpoints.Read(_state, "run/1"));
        }
        Assert.Null(SiloEndpoints.Read(_state, "run/1"));
        Assert.False(File.Exists(SiloEndpoints.PathOf(_state, "run/1")));
    }

    [Fact]
    public async Task Read_ProcessHasExited_IgnoresTheStaleFile()
    {
        using var exited = Process.Start(new ProcessStartInfo("true"))!;
        await exited.WaitForExitAsync();
        using var stale = SiloEndpoints.Advertise(_state, Endpoint(exited.Id));

        Assert.True(File.Exists(SiloEndpoints.PathOf(_state, "run/1")));
        Assert.Null(SiloEndpoints.Read(_state, "run/1"));
    }

    [Fact]
    public void Dispose_ANewerSiloReplacedTheFile_LeavesTheNewerOne()
    {
        var older = SiloEndpoints.Advertise(_state, Endpoint(Environment.ProcessId, port: 1));
        var newer = Endpoint(Environment.ProcessId, port: 2);
        using var current = SiloEndpoints.Advertise(_state, newer);

        older.Dispose();

        Assert.Equal(newer, SiloEndpoints.Read(_state, "run/1"));
    }
}
