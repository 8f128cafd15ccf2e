using System.Diagnostics;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Grains.Placement;
using SparOrleans.Silo.Hosting;
using SparOrleans.Tests.Shared;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// TLS between silos and clients: real <c>spar silo</c> processes (gpu, cpu) on Redis and Azurite sharing a
/// self-signed cluster certificate; a client with it runs, one without it (or with another) is refused in seconds.
/// </summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private const string Password = "cluster-pfx-password";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"spar-tls-{Guid.NewGuid():N}");
    private readonly AzuriteFixture _azurite = new();

    public async Task InitializeAsync()
    {
        if (RedisServer.IsInstalled)
        {
            await _azurite.InitializeAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await _azurite.DisposeAsync();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [RedisFact]
    public async Task TlsCluster_GpuAndCpuSilos_ClientWithTheCertificateRuns_ClientsWithoutItRefusedInSeconds()
    {
        var certificate = TestCertificates.WritePfx(_dir, "spar-cluster", Password);
        var other = TestCertificates.WritePfx(_dir, "someone-else", password: null);
        var secret = new Dictionary<string, string> { [ClusterTls.PasswordVariable] = Password };
        await using var redis = await RedisServer.StartAsync();
        var container = $"tls-{Guid.NewGuid():N}"[..20];
        await using var gpu = await SiloProcess.StartAsync(SiloRoles.Gpu, redis.Endpoint, _azurite.Port, container, ["--tls-cert", certificate], secret);
        await using var cpu = await SiloProcess.StartAsync(SiloRoles.Cpu, redis.Endpoint, _azurite.Port, container, ["--tls-cert", certificate], secret);

        // The run grain (cpu) calls the trainer (gpu): silo-to-silo traffic is TLS too.
        await using (var run = SparProcess.Start(secret, "run", "--cluster", redis.Endpoint, "--tls-cert", certificate, "--preset", "tiny",
            "--iterations", "1", "--run-id", "tls-1", "--home", Path.Combine(_dir, "home"), "--format", "json"))
        {
            var code = await run.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.True(code == ExitCodes.Success, $"exit {code}: {run.Err}\n--- gpu\n{gpu.Output}\n--- cpu\n{cpu.Output}");
            Assert.Equal("completed", JsonDocument.Parse(run.Out).RootElement.GetProperty("status").GetString(), ignoreCase: true);
        }

        foreach (var (args, hint) in new[]
        {
            (new[] { "status", "tls-1", "--cluster", redis.Endpoint }, "give --tls-cert"),
            (["status", "tls-1", "--cluster", redis.Endpoint, "--tls-cert", other], "another certificate"),
        })
        {
            var clock = Stopwatch.StartNew();
            var (code, output, error) = await Spar(args);

            Assert.Equal(ExitCodes.UserError, code);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: Cannot join the cluster", line);
            Assert.Contains(hint, line);
            Assert.Empty(output);
            // Orleans' own retries would take three minutes to give up.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"refused after {clock.Elapsed}");
        }
    }
}
