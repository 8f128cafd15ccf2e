using SparOrleans.Engine.Native;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SparOrleans.Simulator.Tests;

internal static class TestPaths
{
    static TestPaths() => TorchRuntime.Configure(threads: 1, seed: 0);

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-simulator-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
