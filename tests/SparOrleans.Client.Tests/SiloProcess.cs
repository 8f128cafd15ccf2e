using System.Diagnostics;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Client.Tests;

/// <summary>
/// <c>spar silo</c> as a real child process: started with its role and endpoints, its name read from the "ready NAME"
/// line it prints once it has joined, its output kept for assertion messages, killed on dispose.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output;

    private SiloProcess(Process process, string name, string role, List<string> output)
    {
        _process = process;
        Name = name;
        Role = role;
        _output = output;
    }

    public string Name { get; }

    public string Role { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <param name="extra">More <c>spar silo</c> options (e.g. <c>--tls-cert</c>, <c>--retry-limit</c>).</param>
    /// <param name="environment">Variables set for the process only (e.g. the certificate password).</param>
    public static async Task<SiloProcess> StartAsync(string role, string redis, int azuritePort, string container,
        IEnumerable<string>? extra = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        string[] arguments =
        [
            ServeProcess.SparDll, "silo", "--role", role, "--redis", redis, "--storage", $"azurite:{azuritePort}", "--container", container,
            "--port", RedisServer.FreePort().ToString(), "--gateway", RedisServer.FreePort().ToString(), .. extra ?? [],
        ];
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var output = new List<string>();
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (output)
            {
                output.Add(e.Data);
            }
            if (e.Data.StartsWith("ready ", StringComparison.Ordinal))
            {
                ready.TrySetResult(e.Data["ready ".Length..].Trim());
            }
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"spar silo --role {role} exited with {process.ExitCode}: {string.Join('\n', output)}"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            return new SiloProcess(process, await ready.Task.WaitAsync(TimeSpan.FromSeconds(90)), role, output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL, as `kill -9` or a machine that dies: the silo leaves no word, the cluster must notice.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, as a rolling restart or `systemctl stop` does: the silo shuts down gracefully; its exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using (var signal = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
            {
                await signal.WaitForExitAsync();
            }
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
