namespace SparOrleans.Verifiers.Tests;

internal static class TestPaths
{
    /// <summary>The shared data folder: ../shared next to the folder holding SparOrleans.sln.</summary>
    public static string Shared
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SparOrleans.sln")))
            {
                dir = dir.Parent;
            }
            return dir is null
                ? throw new DirectoryNotFoundException("SparOrleans.sln not found above " + AppContext.BaseDirectory)
                : Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        }
    }

    public static string IfEvalInput => Path.Combine(Shared, "data", "ifeval", "input_data.jsonl");

    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-verifiers-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
