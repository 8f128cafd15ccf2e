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
}
