using System.Diagnostics;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Tests.Shared;
using Xunit.Abstractions;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The cluster as deployed, under faults: real `spar silo` processes (1 gpu + 2 cpu) on a real redis-server (membership
/// and reminders) and Azurite (grain state, checkpoints), tiny TorchSharp runs, and silos killed with SIGKILL. Each case
/// ends with the run completed (or failed as documented) and every prompt of every iteration judged and finished
/// exactly once, read back from the prompt grains' stored state. The silos probe each other every second and retry a
/// phase with short waits, so a fault plays out in seconds; the gpu silos share a bootstrap cache, so only the first
/// run trains M_0/R_0.
/// </summary>
public sealed class ClusterFaultTests(ITestOutputHelper output, ClusterFaultTests.BootstrapCacheFolder cache)
    : IAsyncLifetime, IClassFixture<ClusterFaultTests.BootstrapCacheFolder>
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"spar-cluster-faults-{Guid.NewGuid():N}");
    private readonly AzuriteFixture _azurite = new();
    private readonly List<SiloProcess> _silos = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private RedisServer? _redis;
    private ClusterConnection? _connection;

    private string Redis => _redis!.Endpoint;

    private string Home => Path.Combine(_root, "home");

    private IClusterClient Client => _connection!.Client;

    public async Task InitializeAsync()
    {
        if (!RedisServer.IsInstalled)
        {
            return;
        }
        await _azurite.InitializeAsync();
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        output.WriteLine($"the case took {_clock.Elapsed.TotalSeconds:F1} s");
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        await _azurite.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [RedisFact]
    public async Task CoordinatorSiloKilled_NoClientAttached_TheReminderContinuesTheRunToTheEnd()
    {
        await StartClusterAsync();
        var run = "orphan";
        // The run must still be running when its coordinator is killed after the client (RunArguments: six iterations).
        await using (var client = SparProcess.Start(RunArguments(run)))
        {
            await WaitForAsync(run, PastBootstrap, client);
            await client.KillAsync();
        }
        var before = await Client.GetGrain<IRunGrain>(run).GetStatusAsync();
        var coordinator = _silos.Single(s => s.Name == before.Coordinator);
        Assert.Equal("cpu", coordinator.Role);
        await KillAsync(coordinator);
        Assert.Equal(RunStatusKind.Running, before.Status);

        // Nobody calls the run grain now: only its reminder can activate it on a live silo. Watch the grain directory
        // (which activates nothing) until an activation appears, then follow the run to its end.
        var management = Client.GetGrain<IManagementGrain>(0);
        var healed = Stopwatch.StartNew();
        while (!await ActivatedOnALiveSiloAsync())
        {
            if (healed.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"no silo re-activated the run within 60 s of its coordinator's death: {Logs()}");
            }
            await Task.Delay(250);
        }
        output.WriteLine($"the run was re-activated {healed.Elapsed.TotalSeconds:F1} s after its coordinator was declared dead");

        async Task<bool> ActivatedOnALiveSiloAsync()
        {
            var at = await Retrying(() => management.GetActivationAddress(Client.GetGrain<IRunGrain>(run)).AsTask());
            return at is not null && (await Retrying(() => management.GetDetailedHosts(onlyActive: true))).Any(h => h.SiloAddress.Equals(at));
        }
        var after = await WaitForAsync(run, s => s.Status != RunStatusKind.Running);

        Assert.Equal(RunStatusKind.Completed, after.Status);
        Assert.NotEqual(coordinator.Name, after.Coordinator);
        var (code, text, error) = await Spar("status", run, "--cluster", Redis);
        Assert.True(code == ExitCodes.Success, error);
        Assert.StartsWith($"{run}: completed", text);
        Assert.Contains($"coordinator silo {after.Coordinator}", text);
        await AssertEveryPromptOnceAsync(run);
    }

    [RedisFact]
    public Task GpuSiloKilledMidRun_AnotherGpuSiloStarts_TheRunCompletes() =>
        ReplaceTheGpuSiloMidRunAsync("gpu-lost", KillAsync);

    /// <summary>
    /// A rolling restart: the gpu silo is told to stop (SIGTERM, as systemd or Kubernetes do) mid-run. It must exit
    /// cleanly and leave the run only faults it retries (the step in flight on it, the trainer it held), never an error
    /// that ends the run.
    /// </summary>
    [RedisFact]
    public Task GpuSiloStoppedGracefullyMidRun_ItExitsCleanly_AnotherGpuSiloStarts_TheRunCompletes() =>
        ReplaceTheGpuSiloMidRunAsync("gpu-restarted", async gpu =>
        {
            var exit = await gpu.StopAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"gpu silo {gpu.Name} stopped with exit code {exit} at {_clock.Elapsed.TotalSeconds:F1} s");
            Assert.True(exit == 0, $"the gpu silo exited with {exit} on SIGTERM: {gpu.Output}");
        });

    private async Task ReplaceTheGpuSiloMidRunAsync(string run, Func<SiloProcess, Task> takeDown)
    {
        await StartClusterAsync();
        await using var client = SparProcess.Start(RunArguments(run));
        await WaitForAsync(run, PastBootstrap, client);
        await takeDown(_silos.Single(s => s.Role == "gpu"));
        await StartSiloAsync("gpu");

        var code = await client.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(code == ExitCodes.Success, $"{client.Err}\n{Logs()}");
        Assert.Equal("completed", Summary(client).GetProperty("status").GetString());
        await AssertEveryPromptOnceAsync(run);
    }

    [RedisFact]
    public async Task EveryGpuSiloKilled_TheRunFailsAfterTheRetryLimit_ResumeCompletesItOnceAGpuSiloIsBack()
    {
        const int limit = 3;
        await StartClusterAsync(retryLimit: limit);
        var run = "no-gpu";
        await using (var client = SparProcess.Start(RunArguments(run)))
        {
            await WaitForAsync(run, PastBootstrap, client);
            await KillAsync(_silos.Single(s => s.Role == "gpu"));

            var failedCode = await client.WaitAsync(TimeSpan.FromMinutes(2));

            Assert.True(failedCode == ExitCodes.Failure, client.Err);
            Assert.Contains($"gave up after {limit} attempts in a row", client.Err);
            Assert.Contains($"spar resume {run} --cluster {Redis}", client.Err);
        }
        // A failed run stays failed: its reminder is gone, and ticks would not restart it anyway.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var failed = await Client.GetGrain<IRunGrain>(run).GetStatusAsync();
        Assert.Equal(RunStatusKind.Failed, failed.Status);
        Assert.Contains($"gave up after {limit} attempts", failed.Error);
        // `spar run` of the failed run points at resume instead of following a run that will not move.
        var (againCode, _, againError) = await Spar(RunArguments(run));
        Assert.Equal(ExitCodes.UserError, againCode);
        Assert.StartsWith("error: ", againError);
        Assert.Contains($"spar resume {run} --cluster {Redis}", againError);

        await StartSiloAsync("gpu", limit);
        var (code, resumed, error) = await Spar("resume", run, "--cluster", Redis, "--home", Home, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        using (var summary = JsonDocument.Parse(resumed))
        {
            Assert.Equal("completed", summary.RootElement.GetProperty("status").GetString());
        }
        await AssertEveryPromptOnceAsync(run);
    }

    [RedisFact]
    public async Task AzuriteStoppedFor15Seconds_TheRunCompletes()
    {
        await StartClusterAsync();
        var run = "storage-lost";
        await using var client = SparProcess.Start(RunArguments(run));
        await WaitForAsync(run, PastBootstrap, client);
        await _azurite.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(15));
        await _azurite.StartAsync();

        var code = await client.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(code == ExitCodes.Success, client.Err);
        Assert.Equal("completed", Summary(client).GetProperty("status").GetString());
        await AssertEveryPromptOnceAsync(run);
    }

    /// <summary>
    /// Concurrent tiny runs on one cluster while a random silo is killed at a random moment and replaced, until 20
    /// runs have seen a kill; every run completes with every prompt's outcome stored exactly once.
    /// </summary>
    [RedisFact]
    public async Task RandomKills_TwentyTrials_EveryRunCompletesWithEveryPromptOnce()
    {
        const int seed = 20261206;
        const int trials = 20;
        const int concurrent = 4;
        output.WriteLine($"random kills: seed {seed}");
        var random = new Random(seed);
        await StartClusterAsync();
        var done = 0;
        for (var round = 0; done < trials; round++)
        {
            var specs = Enumerable.Range(0, concurrent).Select(i => Spec($"trial-{round}-{i}", seed + round * concurrent + i)).ToList();
            await Task.WhenAll(specs.Select(spec => Retrying(() => Client.GetGrain<IRunGrain>(spec.RunId).StartAsync(spec))));
            await Task.Delay(TimeSpan.FromSeconds(0.3 + random.NextDouble() * 1.7));
            var live = _silos.Where(s => !s.HasExited).ToList();
            var victim = live[random.Next(live.Count)];
            var running = new List<string>();
            foreach (var spec in specs)
            {
                if ((await Retrying(() => Client.GetGrain<IRunGrain>(spec.RunId).GetStatusAsync())).Status == RunStatusKind.Running)
                {
                    running.Add(spec.RunId);
                }
            }
            output.WriteLine($"round {round}: killing the {victim.Role} silo {victim.Name} with {running.Count} runs running");
            await KillAsync(victim);
            var replacement = StartSiloAsync(victim.Role);
            foreach (var spec in specs)
            {
                var ended = await WaitForAsync(spec.RunId, s => s.Status != RunStatusKind.Running);
                Assert.True(ended.Status == RunStatusKind.Completed, $"{spec.RunId} {ended.Status}: {ended.Error}\n{Logs()}");
                await AssertEveryPromptOnceAsync(spec.RunId);
            }
            await replacement;
            done += running.Count;
        }
        output.WriteLine($"{done} runs saw a kill and completed with every prompt once");
    }

    private static readonly string[] FastFaults = ["--probe-timeout", "1", "--reminder-period", "2", "--retry-delay", "0.2", "--retry-max-delay", "1"];

    private async Task StartClusterAsync(int retryLimit = 60)
    {
        await Task.WhenAll(StartSiloAsync("gpu", retryLimit), StartSiloAsync("cpu", retryLimit), StartSiloAsync("cpu", retryLimit));
        _connection = await ClusterConnection.ConnectAsync(new ClusterEndpoints { Redis = Redis });
        output.WriteLine($"cluster up after {_clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task<SiloProcess> StartSiloAsync(string role, int retryLimit = 60)
    {
        var silo = await SiloProcess.StartAsync(role, Redis, _azurite.Port, "faults",
            [.. FastFaults, "--retry-limit", retryLimit.ToString(), "--bootstrap-cache", cache.Path]);
        lock (_silos)
        {
            _silos.Add(silo);
        }
        return silo;
    }

    /// <summary>SIGKILLs the silo and waits until the cluster has declared it dead (a replacement joins only then).</summary>
    private async Task KillAsync(SiloProcess silo)
    {
        await silo.KillAsync();
        var clock = Stopwatch.StartNew();
        var management = Client.GetGrain<IManagementGrain>(0);
        while ((await Retrying(() => management.GetDetailedHosts(onlyActive: true))).Any(h => h.SiloName == silo.Name))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the cluster did not declare {silo.Name} dead within 60 s");
            await Task.Delay(250);
        }
        output.WriteLine($"{silo.Role} silo {silo.Name} killed at {_clock.Elapsed.TotalSeconds:F1} s, declared dead after {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Six iterations: the faults strike in one of the first, and whole iterations are left to do after them. With a
    /// cached bootstrap a tiny cluster iteration can take well under a second.
    /// </summary>
    private string[] RunArguments(string run, int iterations = 6) =>
        ["run", "--cluster", Redis, "--preset", "tiny", "--iterations", iterations.ToString(), "--run-id", run, "--home", Home, "--format", "json"];

    /// <summary>What `spar run --preset tiny --iterations 1` starts, for runs the test drives itself.</summary>
    private RunSpec Spec(string runId, int seed)
    {
        // One M_0/R_0 for every trial (from the cache): the trials are about the iterations, which differ by seed.
        var options = SimulatorOptions.Tiny with { Seed = seed, BootstrapSeed = 1 };
        return new RunSpec(runId, Path.Combine(Home, runId), seed, 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
    }

    // Any iteration past the bootstrap: with a cached bootstrap a tiny iteration can take a few hundred milliseconds, and
    // waiting for exactly the first let a poll miss it and the run end unfaulted (CI).
    private static bool PastBootstrap(RunStatus s) => s is { Status: RunStatusKind.Running, Iteration: >= 1, Phase: >= RunPhase.Sampling };

    private async Task<RunStatus> WaitForAsync(string run, Func<RunStatus, bool> until, SparProcess? client = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await Retrying(() => Client.GetGrain<IRunGrain>(run).GetStatusAsync());
            if (status.Spec is not null && until(status))
            {
                return status;
            }
            if (client?.HasExited == true)
            {
                Assert.Fail($"spar run exited early: {client.Err}");
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                Assert.Fail($"run {run} stuck at iteration {status.Iteration}, {status.Phase}, {status.Status}: {Logs()}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Every iteration's prompts are all there, each judged its K samples once and finished once.</summary>
    private async Task AssertEveryPromptOnceAsync(string run)
    {
        var grain = Client.GetGrain<IRunGrain>(run);
        var status = await grain.GetStatusAsync();
        var spec = status.Spec!;
        Assert.Equal(RunStatusKind.Completed, status.Status);
        Assert.Equal(Enumerable.Range(0, spec.Iterations + 1), status.Iterations.Select(r => r.Iteration));
        for (var t = 1; t <= spec.Iterations; t++)
        {
            var keys = await grain.GetPromptKeysAsync(t);
            Assert.Equal(spec.PromptsPerIteration, keys.Count);
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.Equal(spec.PromptsPerIteration, status.Iterations[t].Prompts);
            foreach (var key in keys)
            {
                var prompt = await Client.GetGrain<IPromptGrain>(key).GetSnapshotAsync();
                Assert.Equal(spec.SamplesPerPrompt, prompt.Samples.Count);
                Assert.NotNull(prompt.Outcome);
                Assert.Equal(spec.SamplesPerPrompt, prompt.Outcome.Judged.Count);
                Assert.Equal(prompt.Prompt?.PromptId, prompt.Outcome.PromptId);
            }
        }
    }

    /// <summary>A call through a cluster that is losing a silo: retried while the fault is the kind a run rides out.</summary>
    private static async Task<T> Retrying<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (RunFaults.IsTransient(e) && attempt < 60)
            {
                await Task.Delay(500);
            }
        }
    }

    private static JsonElement Summary(SparProcess client) => JsonDocument.Parse(client.Out).RootElement;

    private string Logs()
    {
        lock (_silos)
        {
            return string.Join("\n", _silos.Select(s => $"--- {s.Role} {s.Name}{(s.HasExited ? " (dead)" : "")}:\n{s.Output}"));
        }
    }

    /// <summary>The gpu silos' bootstrap cache, shared by the class's cases and removed after them.</summary>
    public sealed class BootstrapCacheFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"spar-fault-cache-{Guid.NewGuid():N}");

        public void Dispose()
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }
}
