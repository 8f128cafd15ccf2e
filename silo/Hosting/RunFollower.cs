using System.Runtime.CompilerServices;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// Follows a run to its end through silo failures: when the watch breaks (the run grain's silo died, the gateway
/// went away) it watches again, which re-activates the run grain elsewhere, and a re-activated running run continues
/// from its stored phase. Gives up after <see cref="RunFaults.MaxAttempts"/> consecutive broken watches.
/// </summary>
public static class RunFollower
{
    public static async IAsyncEnumerable<RunStatus> FollowAsync(IRunGrain run, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var failures = 0;
        while (true)
        {
            var watch = run.WatchAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    RunStatus current;
                    try
                    {
                        if (!await watch.MoveNextAsync())
                        {
                            yield break;
                        }
                        current = watch.Current;
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsBroken(e) && ++failures <= RunFaults.MaxAttempts)
                    {
                        break;
                    }
                    failures = 0;
                    yield return current;
                    if (current.Status is RunStatusKind.Completed or RunStatusKind.Failed)
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                await DisposeQuietlyAsync(watch);
            }
            // Back off: the dead silo may not be declared dead yet, and placement needs a live silo with the role.
            await Task.Delay(RunFaults.Delay(failures), cancellationToken);
        }
    }

    private static bool IsBroken(Exception e) => e is EnumerationAbortedException || RunFaults.IsTransient(e);

    private static async Task DisposeQuietlyAsync(IAsyncEnumerator<RunStatus> watch)
    {
        try
        {
            await watch.DisposeAsync();
        }
        catch (Exception e) when (IsBroken(e) || e is OperationCanceledException)
        {
            // Disposing a watch whose silo is gone fails the same way the watch did.
        }
    }
}
