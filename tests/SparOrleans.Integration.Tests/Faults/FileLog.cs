using Microsoft.Extensions.Logging;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// Silo logs (warnings and up) appended to the file named by SPAR_FAULT_LOG, for diagnosing a fault test that fails;
/// nothing when the variable is unset.
/// </summary>
public sealed class FileLog(string path) : ILoggerProvider
{
    private static readonly object Gate = new();

    public static string? Path => Environment.GetEnvironmentVariable("SPAR_FAULT_LOG");

    public ILogger CreateLogger(string categoryName) => new Logger(path, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(string path, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            lock (Gate)
            {
                File.AppendAllText(path, $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" | {exception.GetType().Name}: {exception.Message}")}\n");
            }
        }
    }
}
