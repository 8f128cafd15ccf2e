using System.Diagnostics;
using System.Text.Json;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// Where the embedded silo running a run can be reached: its loopback gateway port, its process, and its web side
/// (run page and Orleans Dashboard) when it has one.
/// </summary>
public sealed record SiloEndpoint(string RunId, int GatewayPort, int ProcessId, DateTimeOffset Started, Uri? WebAddress = null);

/// <summary>
/// The embedded silo of <c>spar run</c>/<c>spar resume</c> advertises itself in <c>{state}/silos/{run}.json</c> for as
/// long as it runs, so other processes (<c>spar watch</c>) can join it as clients. A file whose process is gone
/// (a killed run) is ignored.
/// </summary>
public static class SiloEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static string PathOf(string stateDirectory, string runId) =>
        Path.Combine(stateDirectory, "silos", $"{Uri.EscapeDataString(runId)}.json");

    /// <summary>Writes the endpoint file (atomically); disposing the result deletes it again if it is still ours.</summary>
    public static IDisposable Advertise(string stateDirectory, SiloEndpoint endpoint)
    {
        var path = PathOf(stateDirectory, endpoint.RunId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(endpoint, Json));
        File.Move(temp, path, overwrite: true);
        return new Advertisement(stateDirectory, endpoint);
    }

    /// <summary>The live endpoint of the run's silo; null when none is advertised or its process has exited.</summary>
    public static SiloEndpoint? Read(string stateDirectory, string runId)
    {
        SiloEndpoint? endpoint;
        try
        {
            endpoint = JsonSerializer.Deserialize<SiloEndpoint>(File.ReadAllText(PathOf(stateDirectory, runId)), Json);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException or IOException)
        {
            return null;
        }
        return endpoint is not null && endpoint.RunId == runId && IsAlive(endpoint.ProcessId) ? endpoint : null;
    }

    /// <summary>The live endpoints advertised in the state directory, one per run whose silo is up.</summary>
    public static IReadOnlyList<SiloEndpoint> ReadAll(string stateDirectory)
    {
        var directory = Path.Combine(stateDirectory, "silos");
        if (!Directory.Exists(directory))
        {
            return [];
        }
        return [.. Directory.EnumerateFiles(directory, "*.json")
            .Select(file => Read(stateDirectory, Uri.UnescapeDataString(Path.GetFileNameWithoutExtension(file))))
            .OfType<SiloEndpoint>()];
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private sealed class Advertisement(string stateDirectory, SiloEndpoint endpoint) : IDisposable
    {
        public void Dispose()
        {
            // A newer silo for the same run (a resume in another process) may have replaced the file: leave it.
            if (Read(stateDirectory, endpoint.RunId) is { } current && current != endpoint)
            {
                return;
            }
            try
            {
                File.Delete(PathOf(stateDirectory, endpoint.RunId));
            }
            catch (IOException)
            {
                // Best effort: a stale file is ignored by readers once this process has exited.
            }
        }
    }
}
