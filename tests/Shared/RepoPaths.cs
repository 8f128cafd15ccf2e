namespace SparOrleans.Tests.Shared;

/// <summary>Locates the repository root (the folder holding SparOrleans.sln) and its neighbours from a test's output folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The read-only shared material that sits beside the checkout (<c>../shared</c>).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SparOrleans.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No SparOrleans.sln above {AppContext.BaseDirectory}.");
    }
}
