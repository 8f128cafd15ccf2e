using Microsoft.Extensions.Logging;

namespace SparOrleans.Silo.Hosting;

public static class SparLogging
{
    /// <summary>
    /// One line per entry, all on stderr: stdout carries a verb's results only, which scripts parse
    /// (<c>--format json</c>), so a silo's warnings must never land there.
    /// </summary>
    public static ILoggingBuilder SparConsole(this ILoggingBuilder logging, LogLevel minimum) =>
        logging.ClearProviders()
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(minimum);

    /// <summary>
    /// Orleans' logs from <paramref name="minimum"/> up, but none before <paramref name="started"/> says the host is
    /// up: a start that fails (Redis unreachable, a port in use) surfaces as the exception the caller turns into one
    /// error line, and Orleans' own log of the same failure would add a stack trace. SPAR_DEBUG=1 keeps them.
    /// </summary>
    public static ILoggingBuilder OrleansLogs(this ILoggingBuilder logging, LogLevel minimum, Func<bool> started)
    {
        var debug = Environment.GetEnvironmentVariable("SPAR_DEBUG") == "1";
        return logging.AddFilter("Orleans", level => level >= minimum && (debug || started()));
    }
}
