using SparOrleans.Client.Cli;

namespace SparOrleans.Client.Tests;

/// <summary>Runs one `spar` command line in-process and captures what it printed, as a user would see it.</summary>
internal static class SparInvocation
{
    public static async Task<(int Code, string Out, string Err)> Spar(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SparCli.InvokeAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
