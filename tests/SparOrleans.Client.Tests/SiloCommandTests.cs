using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Tests.Shared;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>`spar silo` and `spar run --cluster`: a real Redis-membership cluster of 1 gpu + 2 cpu silos on loopback.</summary>
public sealed class SiloCommandTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-cluster-{Guid.NewGuid():N}");
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
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [RedisFact]
    public async Task RunCluster_OneGpuTwoCpuSilosOnRedis_TinyRunCompletes()
    {
        await using var redis = await RedisServer.StartAsync();
        var cluster = new ClusterEndpoints { Redis = redis.Endpoint };
        var storage = ClusterEndpoints.Storage(_azurite.ConnectionString);
        var silos = new List<ClusterSilo>();
        try
        {
            foreach (var role in new[] { SiloRoles.Gpu, SiloRoles.Cpu, SiloRoles.Cpu })
            {
                silos.Add(await ClusterSilo.StartAsync(new ClusterSiloOptions
                {
                    Cluster = cluster,
                    Spar = new SparSiloOptions { Roles = [role], Storage = storage },
                    SiloPort = RedisServer.FreePort(),
                    GatewayPort = RedisServer.FreePort(),
                }));
            }
            await using (var probe = await ClusterConnection.ConnectAsync(cluster))
            {
                var hosts = await probe.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
                Assert.Equal(3, hosts.Count);
            }

            var (code, output, error) = await Spar("run", "--cluster", redis.Endpoint, "--preset", "tiny", "--iterations", "1", "--run-id", "on-cluster",
                "--home", _home, "--format", "json");

            Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
            using var summary = JsonDocument.Parse(output);
            Assert.Equal("completed", summary.RootElement.GetProperty("status").GetString(), ignoreCase: true);
            Assert.Equal(2, summary.RootElement.GetProperty("iterations").GetArrayLength());
            Assert.True(File.Exists(Path.Combine(_home, "on-cluster", "summary.json")));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [RedisFact]
    public async Task RunCluster_SiloProcessesWithOneRoleEach_SuccessiveRunsCompleteWithGrainsOnTheirRoles()
    {
        // Real `spar silo` processes, as infra/cluster.sh starts them: most runs used to fail at start because the run
        // grain landed on the gpu-only silo or the trainer on a cpu-only one (Unable to resolve IModelWorkshop).
        await using var redis = await RedisServer.StartAsync();
        var silos = new List<SiloProcess>();
        try
        {
            foreach (var role in new[] { SiloRoles.Gpu, SiloRoles.Cpu, SiloRoles.Cpu })
            {
                silos.Add(await SiloProcess.StartAsync(role, redis.Endpoint, _azurite.Port, $"roles-{Guid.NewGuid():N}"[..20]));
            }
            var runIds = Enumerable.Range(1, 7).Select(i => $"roles-{i}").ToList();
            Task<(int Code, string Out, string Err)> RunAsync(string id) => Spar("run", "--cluster", redis.Endpoint, "--preset", "tiny",
                "--iterations", "1", "--run-id", id, "--home", _home, "--format", "json");

            // One run first, then two waves of three: the later run and trainer grains are placed by silos that have
            // already placed every role-restricted grain type, which is when a filter shared between types misplaced them.
            var results = new List<(int Code, string Out, string Err)> { await RunAsync(runIds[0]) };
            results.AddRange(await Task.WhenAll(runIds[1..4].Select(RunAsync)));
            results.AddRange(await Task.WhenAll(runIds[4..].Select(RunAsync)));

            var logs = string.Join("\n", silos.Select(s => $"--- {s.Name} ({s.Role})\n{s.Output}"));
            Assert.All(results, r => Assert.True(r.Code == ExitCodes.Success, $"exit {r.Code}: {r.Err}\n{logs}"));
            Assert.All(results, r => Assert.Equal("completed", JsonDocument.Parse(r.Out).RootElement.GetProperty("status").GetString(), ignoreCase: true));

            await using var probe = await ClusterConnection.ConnectAsync(new ClusterEndpoints { Redis = redis.Endpoint });
            var management = probe.Client.GetGrain<IManagementGrain>(0);
            var roleOf = (await management.GetDetailedHosts(onlyActive: true))
                .ToDictionary(h => h.SiloAddress, h => silos.Single(s => s.Name == h.SiloName).Role);
            foreach (var id in runIds)
            {
                var run = await management.GetActivationAddress(probe.Client.GetGrain<IRunGrain>(id));
                Assert.NotNull(run);
                Assert.Equal(SiloRoles.Cpu, roleOf[run]);
                // The trainer may have been collected since; where it is still active it is on the gpu silo.
                if (await management.GetActivationAddress(probe.Client.GetGrain<ITrainerGrain>(id)) is { } trainer)
                {
                    Assert.Equal(SiloRoles.Gpu, roleOf[trainer]);
                }
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RunCluster_NoRedisThere_OneErrorLineAndNoOutputs()
    {
        var (code, _, error) = await Spar("run", "--cluster", $"127.0.0.1:{RedisServer.FreePort()}", "--preset", "tiny", "--run-id", "lonely", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: Cannot reach the cluster", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Path.Combine(_home, "lonely")));
    }

    [Theory]
    [InlineData("--role", "tpu", "--role 'tpu'")]
    [InlineData("--storage", "azurite:70000", "the Azurite port must be a number between 1 and 65535")]
    [InlineData("--address", "localhost.example", "is not an IP address")]
    [InlineData("--retry-limit", "0", "MaxAttempts (--retry-limit) must be between 1 and 10000 (got 0)")]
    [InlineData("--retry-delay", "-1", "FirstDelay (--retry-delay, seconds) must be between 0.01 and 3600 (got -1)")]
    [InlineData("--reminder-period", "0.5", "Period (--reminder-period, seconds) must be between 1 and 86400 (got 0.5)")]
    [InlineData("--probe-timeout", "0", "the membership probe timeout (--probe-timeout) must be between 0.2 and 60 seconds")]
    public async Task Silo_BadOption_ExitsWithUserErrorNamingIt(string option, string value, string message)
    {
        string[] args = option == "--storage" ? ["silo", option, value] : ["silo", "--storage", "azurite", option, value];

        var (code, _, error) = await Spar(args);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
    }
}
