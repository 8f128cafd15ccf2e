using System.Diagnostics;

namespace SparOrleans.Tests.Shared;

/// <summary>Starts a local server process (Azurite, redis-server) and waits for the line that says it is ready.</summary>
internal static class ServerProcess
{
    public static async Task<Process> StartAsync(string executable, IEnumerable<string> arguments, string readyText, string name, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains(readyText, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        // Drained so the child never blocks on a full pipe.
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{name} exited with {process.ExitCode} before it was ready."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(timeout);
        return process;
    }
}
