using System.Diagnostics;
using SparOrleans.Client.Commands;

namespace SparOrleans.Client.Tests;

/// <summary><c>spar serve</c> as a real child process: started with its arguments, its URL read from stderr, killed on dispose.</summary>
public sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _errors;

    private ServeProcess(Process process, Uri url, List<string> errors)
    {
        _process = process;
        Url = url;
        _errors = errors;
    }

    public Uri Url { get; }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return string.Join('\n', _errors);
            }
        }
    }

    /// <summary>The client as built beside the tests, run by the same dotnet host (LD_PRELOAD comes along from ./run-tests).</summary>
    internal static string SparDll
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "spar.dll");
            return File.Exists(beside) ? beside : throw new FileNotFoundException($"spar.dll not found in {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Starts <c>spar serve ARGS</c> and waits for the line it prints on stderr once listening.</summary>
    public static Task<ServeProcess> StartAsync(params string[] arguments) => StartAsync(new Dictionary<string, string>(), arguments);

    /// <summary>Starts <c>spar serve ARGS</c> with <paramref name="environment"/> set for it alone (e.g. its API key).</summary>
    public static async Task<ServeProcess> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { SparDll, "serve" }.Concat(arguments))
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var errors = new List<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (errors)
            {
                errors.Add(e.Data);
            }
            var at = e.Data.IndexOf(ServeCommand.ListeningPrefix, StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(new Uri(e.Data[(at + ServeCommand.ListeningPrefix.Length)..].Split(' ')[0]));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"spar serve exited with {process.ExitCode}: {string.Join('\n', errors)}"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            return new ServeProcess(process, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60)), errors);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Kills the server at once (as a crash would) and waits until it is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
