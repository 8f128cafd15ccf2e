using System.CommandLine;

namespace SparOrleans.Client.Cli;

/// <summary>
/// Where runs live: each run's outputs in <c>{home}/{run id}/</c> (checkpoints, summary.json) and all grain state in
/// <c>{home}/.state/</c>, bootstrapped models in <c>{home}/.cache/</c>. <c>--home</c>, else <c>$SPAR_HOME</c>, else <c>./runs</c>.
/// </summary>
public sealed record SparHome(string Root)
{
    public string StateDirectory => Path.Combine(Root, ".state");

    public string RunDirectory(string runId) => Path.Combine(Root, runId);

    /// <summary>Bootstrapped M_0/R_0 by options hash, reused by later runs with the same bootstrap options.</summary>
    public string BootstrapCacheDirectory => Path.Combine(Root, ".cache", "bootstrap");

    public static Option<DirectoryInfo?> Option() => new("--home")
    {
        Description = "Folder holding runs and their state (default: $SPAR_HOME, else ./runs)",
    };

    public static SparHome From(ParseResult parse, Option<DirectoryInfo?> option)
    {
        var root = Path.GetFullPath(parse.GetValue(option)?.FullName ?? Environment.GetEnvironmentVariable("SPAR_HOME") ?? "runs");
        // Read as a folder, a file would look like an empty home ("no runs yet") and hide the mistake.
        return File.Exists(root)
            ? throw new Core.Errors.UserInputException($"--home {root} is a file, not a folder: give the folder that holds your runs (or a new one).")
            : new SparHome(root);
    }
}
