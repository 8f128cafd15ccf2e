using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// Issue 17: a phase that keeps failing (the only gpu silo gone, a generation server that never answers) fails the
/// run after the retry limit, instead of retrying forever as "attempt 1"; a completed phase starts the count again.
/// The limits are shortened so a test takes seconds, not the deployed 9 minutes.
/// </summary>
public sealed class RetryLimitTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Run_GenerationFailsEveryTime_FailsAfterMaxAttemptsNamingTheCause()
    {
        var retry = new RunRetryOptions { MaxAttempts = 4, FirstDelay = Short, MaxDelay = Short };
        await using var cluster = await FaultCluster.StartAsync(fixture.Azurite.ConnectionString, cpuSilos: 1, retry);
        cluster.Backend.FailEveryCall();
        var spec = FaultCluster.Spec(fixture.NewOutput());

        await cluster.StartRunAsync(spec);
        // The run registers its reminder as it starts driving, just after the start call returns.
        var held = await cluster.RemindersOfAsync(cluster.Run(spec));
        for (var wait = 0; held.Count == 0 && wait < 100; wait++)
        {
            await Task.Delay(50);
            held = await cluster.RemindersOfAsync(cluster.Run(spec));
        }
        var record = await cluster.FinishAsync(spec);

        // The run held its keep-running reminder while it retried, and drops it on failing: a tick never restarts it.
        Assert.Equal([RunGrain.KeepRunningReminder], held);
        Assert.Empty(await RemindersOnceSettledAsync(cluster, spec));
        Assert.Equal(RunStatusKind.Failed, record.Final.Status);
        Assert.Equal(RunPhase.Sampling, record.Final.Phase);
        Assert.Contains("Sampling: gave up after 4 attempts in a row failed without completing a phase", record.Final.Error);
        Assert.Contains("scripted generation server did not answer", record.Final.Error);
    }

    [Fact]
    public async Task Run_FailuresInEveryGenerationPhaseButNoneTwiceInARow_CountRestartsAndRunCompletes()
    {
        // 2 attempts allowed; sampling, judging and search each fail 1 or 2 times before completing: 3 to 6 failures
        // in all, so the run completes only if every completed phase starts the count again.
        var retry = new RunRetryOptions { MaxAttempts = 2, FirstDelay = Short, MaxDelay = Short };
        await using var cluster = await FaultCluster.StartAsync(fixture.Azurite.ConnectionString, cpuSilos: 1, retry);
        cluster.Backend.FailFirstCallsOfEachKind(2);
        var spec = FaultCluster.Spec(fixture.NewOutput());

        await cluster.StartRunAsync(spec);
        var record = await cluster.FinishAsync(spec);

        Assert.True(record.Final.Status == RunStatusKind.Completed, $"{record.Final.Status}: {record.Final.Error}");
        Assert.Empty(await RemindersOnceSettledAsync(cluster, spec));
    }

    /// <summary>The run's reminders once it has had a moment to drop them (it stores its end first, then unregisters).</summary>
    private static async Task<IReadOnlyList<string>> RemindersOnceSettledAsync(FaultCluster cluster, RunSpec spec)
    {
        var reminders = await cluster.RemindersOfAsync(cluster.Run(spec));
        for (var wait = 0; reminders.Count > 0 && wait < 100; wait++)
        {
            await Task.Delay(50);
            reminders = await cluster.RemindersOfAsync(cluster.Run(spec));
        }
        return reminders;
    }
}
