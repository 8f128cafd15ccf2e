using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Tests.Shared;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// `spar status RUN --cluster` and `spar resume RUN --cluster`: a cluster run lives in the cluster's storage, not in
/// the client's home, so both used to answer "No run" for it.
/// </summary>
public sealed class ClusterRunCommandTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-cluster-resume-{Guid.NewGuid():N}");
    private readonly AzuriteFixture _azurite = new();
    private RedisServer? _redis;
    private ClusterSilo? _silo;

    public async Task InitializeAsync()
    {
        if (!RedisServer.IsInstalled)
        {
            return;
        }
        await _azurite.InitializeAsync();
        _redis = await RedisServer.StartAsync();
        // One silo with both roles: the run grain and the trainer placed as in any cluster.
        _silo = await ClusterSilo.StartAsync(new ClusterSiloOptions
        {
            Cluster = new ClusterEndpoints { Redis = _redis.Endpoint },
            Spar = new SparSiloOptions { Storage = ClusterEndpoints.Storage(_azurite.ConnectionString) },
            SiloPort = RedisServer.FreePort(),
            GatewayPort = RedisServer.FreePort(),
        });
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        await _azurite.DisposeAsync();
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private string Redis => _redis!.Endpoint;

    [RedisFact]
    public async Task ResumeCluster_ClientKilledMidRun_StatusShowsItAndResumeFollowsItToTheEnd()
    {
        string[] run = ["run", "--cluster", Redis, "--preset", "tiny", "--iterations", "1", "--run-id", "orphaned", "--home", _home, "--format", "json"];
        await using (var client = SparProcess.Start(run))
        {
            await using var probe = await ClusterConnection.ConnectAsync(new ClusterEndpoints { Redis = Redis });
            var grain = probe.Client.GetGrain<IRunGrain>("orphaned");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await grain.GetStatusAsync()).Spec is null)
            {
                Assert.False(client.HasExited, $"spar run exited early: {client.Err}");
                Assert.True(DateTime.UtcNow < deadline, $"the run did not start within 60 s: {client.Err}");
                await Task.Delay(200);
            }
            await client.KillAsync();
        }
        // Nothing of the run is in the client's home: only the cluster knows it.
        Assert.False(Directory.Exists(Path.Combine(_home, ".state")));

        var (statusCode, status, statusError) = await Spar("status", "orphaned", "--cluster", Redis, "--format", "json");
        var (resumeCode, resumed, resumeError) = await Spar("resume", "orphaned", "--cluster", Redis, "--home", _home, "--format", "json");
        // Re-issuing the same `spar run --cluster` re-attaches to the run (StartAsync is idempotent): here, to its end.
        var (againCode, again, againError) = await Spar(run);

        Assert.True(statusCode == ExitCodes.Success, statusError);
        using (var shown = JsonDocument.Parse(status))
        {
            Assert.Equal("orphaned", shown.RootElement.GetProperty("id").GetString());
            Assert.Contains(shown.RootElement.GetProperty("status").GetString(), new[] { "running", "completed" });
        }
        Assert.True(resumeCode == ExitCodes.Success, resumeError);
        Assert.Contains("on the cluster at", resumeError);
        using (var summary = JsonDocument.Parse(resumed))
        {
            Assert.Equal("completed", summary.RootElement.GetProperty("status").GetString(), ignoreCase: true);
            Assert.Equal(2, summary.RootElement.GetProperty("iterations").GetArrayLength());
        }
        Assert.True(File.Exists(Path.Combine(_home, "orphaned", "summary.json")));
        Assert.True(againCode == ExitCodes.Success, againError);
        Assert.Equal("completed", JsonDocument.Parse(again).RootElement.GetProperty("status").GetString(), ignoreCase: true);

        var (textCode, text, _) = await Spar("status", "orphaned", "--cluster", Redis);
        Assert.Equal(ExitCodes.Success, textCode);
        Assert.StartsWith("orphaned: completed", text);
    }

    [RedisFact]
    public async Task ResumeAndStatusCluster_RunTheClusterDoesNotKnow_OneErrorLineExit2()
    {
        var (resumeCode, _, resumeError) = await Spar("resume", "never-started", "--cluster", Redis, "--home", _home);
        var (statusCode, _, statusError) = await Spar("status", "never-started", "--cluster", Redis);

        Assert.Equal(ExitCodes.UserError, resumeCode);
        Assert.Contains($"No run 'never-started' on the cluster at {Redis}", AssertOneErrorLine(resumeError));
        Assert.Equal(ExitCodes.UserError, statusCode);
        Assert.Contains($"No run 'never-started' on the cluster at {Redis}", AssertOneErrorLine(statusError));
        Assert.False(Directory.Exists(_home));
    }

    private static string AssertOneErrorLine(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("error: ", line);
        return line;
    }
}
