using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Silo.Hosting;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// One process drives a home's runs at a time: a second `spar run` on the same --home used to start a second embedded
/// silo over the same state and drive the same runs.
/// </summary>
public sealed class HomeLockTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-lock-{Guid.NewGuid():N}");

    private string State => Path.Combine(_home, ".state");

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public void Lock_TakenTwice_SecondNamesTheHolderUntilTheFirstIsReleased()
    {
        using (StateDirectoryLock.Acquire(State))
        {
            var refused = Assert.Throws<StateDirectoryInUseException>(() => StateDirectoryLock.Acquire(State));
            Assert.Equal(Environment.ProcessId, refused.ProcessId);
        }
        StateDirectoryLock.Acquire(State).Dispose();
    }

    [Fact]
    public async Task Run_SecondProcessOnTheSameHome_RefusedInOneLineWhileTheFirstCompletesAndStatusWorks()
    {
        // Three iterations: long enough that it still runs while the other commands try the home.
        await using var first = SparProcess.Start("run", "--preset", "tiny", "--iterations", "3", "--run-id", "first", "--home", _home, "--format", "json");
        await WaitForSiloAsync(first, "first");

        var (code, _, error) = await Spar("run", "--preset", "tiny", "--iterations", "1", "--run-id", "second", "--home", _home);
        var (resumeCode, _, resumeError) = await Spar("resume", "first", "--home", _home);
        var (statusCode, status, statusError) = await Spar("status", "first", "--home", _home);
        var (listCode, list, _) = await Spar("list", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        var line = AssertOneErrorLine(error);
        Assert.Contains($"another spar process (PID {first.Id}) is running on this home", line);
        Assert.Contains("spar watch first", line);
        Assert.False(Directory.Exists(Path.Combine(_home, "second")));
        Assert.Equal(ExitCodes.UserError, resumeCode);
        Assert.Contains($"(PID {first.Id})", AssertOneErrorLine(resumeError));
        Assert.True(statusCode == ExitCodes.Success, statusError);
        Assert.StartsWith("first: ", status);
        Assert.Equal(ExitCodes.Success, listCode);
        Assert.Contains("first", list);
        Assert.DoesNotContain("second", list);

        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(90)) == ExitCodes.Success, first.Err);
        Assert.Equal("completed", JsonDocument.Parse(first.Out).RootElement.GetProperty("status").GetString(), ignoreCase: true);
        // Released with the process: the home is free again.
        StateDirectoryLock.Acquire(State).Dispose();
    }

    [Fact]
    public async Task Run_HolderKilled_LockIsFreeAndStatusStillReadsTheRun()
    {
        await using var first = SparProcess.Start("run", "--preset", "tiny", "--iterations", "1", "--run-id", "killed", "--home", _home);
        await WaitForSiloAsync(first, "killed");
        Assert.Throws<StateDirectoryInUseException>(() => StateDirectoryLock.Acquire(State));

        await first.KillAsync();

        // The OS dropped the lock with the process: no stale lock keeps `spar resume` out.
        StateDirectoryLock.Acquire(State).Dispose();
        var (statusCode, status, statusError) = await Spar("status", "killed", "--home", _home);
        Assert.True(statusCode == ExitCodes.Success, statusError);
        Assert.StartsWith("killed: ", status);
    }

    /// <summary>Waits until the process's embedded silo is up (it advertises itself to `spar watch`) and has stored the run.</summary>
    private async Task WaitForSiloAsync(SparProcess spar, string runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (SiloEndpoints.Read(State, runId) is null || !(await new RunStore(State).ListAsync(CancellationToken.None)).Any(r => r.Id == runId))
        {
            Assert.False(spar.HasExited, $"spar run exited early: {spar.Err}");
            Assert.True(DateTime.UtcNow < deadline, $"no silo advertised within 60 s: {spar.Err}");
            await Task.Delay(200);
        }
    }

    private static string AssertOneErrorLine(string error)
    {
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        return line;
    }
}
