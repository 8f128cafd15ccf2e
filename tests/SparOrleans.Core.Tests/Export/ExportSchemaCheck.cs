using System.ComponentModel;
using System.Diagnostics;

namespace SparOrleans.Core.Tests.Export;

/// <summary>
/// Runs check_export_schema.py (copied beside the test assembly) on exported files. Shared with the client tests,
/// which check what <c>spar export</c> writes from a stored run.
/// </summary>
internal static class ExportSchemaCheck
{
    public static void AssertPasses(params string[] args)
    {
        var (code, output) = Run(args);
        Assert.True(code == 0, $"check_export_schema.py {string.Join(' ', args)} exited {code}:\n{output}");
    }

    /// <summary>Runs the checker with python3; a machine without python3 fails the test (CI's Debian image has it).</summary>
    public static (int Code, string Output) Run(params string[] args)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Export", "check_export_schema.py");
        Assert.True(File.Exists(script), $"{script} is missing: the test project copies it to its output.");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"python3 is needed to check exports against TRL's and LLaMA-Factory's loader rules, and it could not be started ({e.Message}). Install it (Debian: apt-get install python3).");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}
