using System.Diagnostics;

namespace SparOrleans.Client.Tests;

/// <summary>
/// A <c>spar</c> command as a real child process (another process on the same home, a client that is killed): its
/// output kept for assertions, killed on dispose if it still runs.
/// </summary>
public sealed class SparProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private SparProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Out => Lines(_stdout);

    public string Err => Lines(_stderr);

    public static SparProcess Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    /// <summary>Starts <c>spar ARGS</c> with <paramref name="environment"/> set for it alone (keys, passwords).</summary>
    public static SparProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { ServeProcess.SparDll }.Concat(arguments))
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start };
        var spar = new SparProcess(process);
        process.OutputDataReceived += (_, e) => Keep(spar._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(spar._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return spar;
    }

    /// <summary>The exit code, once the process has ended within <paramref name="limit"/>.</summary>
    public async Task<int> WaitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL, as a crash or `kill -9` would end it: nothing of it runs any clean-up.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private static void Keep(List<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (lines)
        {
            lines.Add(line);
        }
    }

    private static string Lines(List<string> lines)
    {
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }
}
