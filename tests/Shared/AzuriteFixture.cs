using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SparOrleans.Tests.Shared;

/// <summary>
/// A real Azurite blob service on a free loopback port, installed by <c>npm ci</c> in <c>infra/</c>, and with
/// <see cref="WithTables"/> its Table service too (cluster membership and reminders). It can be stopped and restarted on
/// the same ports and data folder, to test storage outages.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly string _location = Path.Combine(Path.GetTempPath(), $"azurite-{Guid.NewGuid():N}");
    private Process? _process;
    private Process? _tables;

    private readonly bool _withTables;

    /// <summary>Blob service only (one public constructor: xunit creates class fixtures with it).</summary>
    public AzuriteFixture()
    {
    }

    private AzuriteFixture(bool tables) => _withTables = tables;

    /// <summary>Blob and Table services.</summary>
    public static AzuriteFixture WithTables() => new(tables: true);

    public int Port { get; } = FreePort();

    /// <summary>The Table service's port (started only <see cref="WithTables"/>).</summary>
    public int TablePort { get; } = FreePort();

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public async Task InitializeAsync() => await StartAsync();

    public async Task StartAsync()
    {
        Directory.CreateDirectory(_location);
        _process = await ServerProcess.StartAsync(Executable("azurite-blob"),
            ["--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", _location, "--skipApiVersionCheck", "--loose"],
            "successfully listens on", "Azurite", TimeSpan.FromSeconds(60));
        if (_withTables)
        {
            _tables = await ServerProcess.StartAsync(Executable("azurite-table"),
                ["--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(), "--location", _location, "--skipApiVersionCheck", "--loose"],
                "successfully started on", "Azurite tables", TimeSpan.FromSeconds(60));
        }
    }

    private static string Executable(string name)
    {
        var exe = Path.Combine(RepoPaths.Root, "infra", "node_modules", ".bin", name);
        return File.Exists(exe) ? exe : throw new InvalidOperationException($"Azurite is not installed at {exe}: run `npm ci` in infra/ (.ci/run does).");
    }

    /// <summary>
    /// Stops Azurite (its data folder stays) and waits for the process to be gone. SIGTERM first: Azurite keeps its
    /// blob metadata in memory and saves it on a clean shutdown, so a SIGKILL would lose acknowledged writes, which
    /// real Azure Storage never does.
    /// </summary>
    public async Task StopAsync()
    {
        await StopAsync(_process);
        await StopAsync(_tables);
        _process = null;
        _tables = null;
    }

    private static async Task StopAsync(Process? process)
    {
        if (process is { HasExited: false } p)
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
