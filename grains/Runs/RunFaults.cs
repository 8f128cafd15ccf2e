using System.Text.Json;
using Orleans.Storage;
using Polly.CircuitBreaker;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.OpenAi.Client;
using SparOrleans.Storage;

namespace SparOrleans.Grains.Runs;

/// <summary>
/// Which failures a run rides out by retrying its current phase (a dead silo, unreachable storage, an ETag race,
/// a timeout) and which end it (corrupt state, bad input, a bug). Retries back off exponentially from 0.5 s to 15 s;
/// <see cref="MaxAttempts"/> (40, about 9 minutes) consecutive failures without progress (no phase completed) fail
/// the run. A silo can register other limits with <see cref="RunRetryOptions"/>.
/// </summary>
public static class RunFaults
{
    public const int MaxAttempts = 40;

    public static bool IsTransient(Exception e)
    {
        var chain = ExceptionChain.Of(e).ToList();
        if (chain.Any(x => x is InvalidDataException or JsonException or ArgumentException or UserInputException))
        {
            return false;
        }
        return chain.Any(x => x is OrleansException or TimeoutException or BrokenCircuitException or HttpRequestException
            || IsServerAway(x) || StorageFaults.IsTransient(x));
    }

    /// <summary>
    /// A generation server that is down or overloaded past its client's retries (restarting, out of memory, 429): the
    /// phase is retried. A 4xx is the run's own mistake (an unknown model, a bad request) and ends it.
    /// </summary>
    private static bool IsServerAway(Exception e) => e is OpenAiClientException { Status: null or >= 500 or 408 or 429 };

    /// <summary>Someone else (or a write whose reply was lost) changed the stored state since this activation read it.</summary>
    public static bool IsConflict(Exception e) => ExceptionChain.Of(e).Any(x => x is InconsistentStateException);

    public static TimeSpan Delay(int attempt) => RunRetryOptions.Default.Delay(attempt);
}

/// <summary>
/// How long a run keeps retrying a phase: <see cref="MaxAttempts"/> consecutive transient failures without a phase
/// completing, backing off from <see cref="FirstDelay"/> doubling up to <see cref="MaxDelay"/>. A silo registers the
/// default (`spar silo --retry-limit/--retry-delay` change it); a test registers short ones so a run gives up in seconds.
/// </summary>
public sealed record RunRetryOptions : IValidatedOptions
{
    public static RunRetryOptions Default { get; } = new();

    public int MaxAttempts { get; init; } = RunFaults.MaxAttempts;

    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan Delay(int attempt) =>
        TimeSpan.FromTicks((long)Math.Min(MaxDelay.Ticks, FirstDelay.Ticks * Math.Pow(2, Math.Clamp(attempt - 1, 0, 10))));

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange($"{nameof(MaxAttempts)} (--retry-limit)", MaxAttempts, 1, 10_000)
        .InRange($"{nameof(FirstDelay)} (--retry-delay, seconds)", FirstDelay.TotalSeconds, 0.01, 3600)
        .InRange($"{nameof(MaxDelay)} (--retry-max-delay, seconds)", MaxDelay.TotalSeconds, 0.01, 3600)
        .Require(MaxDelay >= FirstDelay, $"{nameof(MaxDelay)} ({MaxDelay.TotalSeconds} s) must be at least {nameof(FirstDelay)} ({FirstDelay.TotalSeconds} s)");
}

/// <summary>
/// The reminder that keeps a running run alive with no client attached: while a run is Running its grain holds an
/// Orleans reminder ticking every <see cref="Period"/>; a tick after the coordinator's silo died activates the run
/// grain on a live silo, and the activation continues the run from its stored phase. Ticks on a live coordinator do
/// nothing. The silo lowers Orleans' <c>ReminderOptions.MinimumReminderPeriod</c> to <see cref="Period"/> when shorter.
/// </summary>
public sealed record RunReminderOptions : IValidatedOptions
{
    public static RunReminderOptions Default { get; } = new();

    /// <summary>How often the reminder ticks: at most this long after the coordinator's silo is declared dead, the run continues. Default 1 minute.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMinutes(1);

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange($"{nameof(Period)} (--reminder-period, seconds)", Period.TotalSeconds, 1, 24 * 3600);
}
