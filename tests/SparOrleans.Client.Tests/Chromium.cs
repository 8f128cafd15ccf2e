using System.Diagnostics;

namespace SparOrleans.Client.Tests;

/// <summary>
/// Headless Chromium (Debian package <c>chromium</c>; <c>$CHROMIUM</c> overrides the path) for checks of the web page
/// as a browser renders it. CI installs it (<c>apt-get install -y chromium</c>).
/// </summary>
internal static class Chromium
{
    public static string? Path { get; } = Find();

    /// <summary>Runs chromium headless on <paramref name="arguments"/> plus the URL; returns its stdout.</summary>
    public static async Task<string> RunAsync(IEnumerable<string> arguments, Uri url)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("chromium is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // No sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        start.ArgumentList.Add(url.ToString());
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await error}");
        return await output;
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator);
        return new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => directories.Select(d => System.IO.Path.Combine(d, name)))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that needs Chromium: skipped, saying how to install it, where it is absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Path is null)
        {
            Skip = "needs headless Chromium: apt-get install -y chromium (or set $CHROMIUM)";
        }
    }
}
