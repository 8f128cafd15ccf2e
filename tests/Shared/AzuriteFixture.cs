using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SparOrleans.Tests.Shared;

/// <summary>
/// A real Azurite blob service on a free loopback port, installed by <c>npm ci</c> in <c>infra/</c>. It can be
/// stopped and restarted on the same port and data folder, to test storage outages.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _location = Path.Combine(Path.GetTempPath(), $"azurite-{Guid.NewGuid():N}");
    private Process? _process;

    public int Port { get; } = FreePort();

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public async Task InitializeAsync() => await StartAsync();

    public async Task StartAsync()
    {
        var exe = Path.Combine(RepoPaths.Root, "infra", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(exe))
        {
            throw new InvalidOperationException($"Azurite is not installed at {exe}: run `npm ci` in infra/ (.ci/run does).");
        }
        Directory.CreateDirectory(_location);
        _process = await ServerProcess.StartAsync(exe,
            ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", _location, "--skipApiVersionCheck", "--loose"],
            "successfully listens on", "Azurite", TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Stops Azurite (its data folder stays) and waits for the process to be gone. SIGTERM first: Azurite keeps its
    /// blob metadata in memory and saves it on a clean shutdown, so a SIGKILL would lose acknowledged writes, which
    /// real Azure Storage never does.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            if (Terminate(p.Id, Sigterm) == 0)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await p.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    // Did not shut down in time: fall through to the kill.
                }
            }
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }
        }
        _process = null;
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);

    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind harms nothing.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
