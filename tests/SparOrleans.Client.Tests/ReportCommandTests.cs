using System.Text.Json;
using SparOrleans.Client.Cli;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

[Collection(StoredRunCollection.Name)]
public sealed class ReportCommandTests(StoredRunFixture fixture) : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _out = Path.Combine(Path.GetTempPath(), $"spar-report-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task Report_CompletedRun_WritesValidPngsLinkedFromTheMarkdownWithData()
    {
        var (markdown, plots) = await ReportAsync(StoredRunFixture.Completed);

        Assert.Equal(8, plots.Count);
        AssertPngs(plots);
        var text = await File.ReadAllTextAsync(markdown);
        Assert.Contains($"# SPaR run {StoredRunFixture.Completed}", text);
        foreach (var plot in plots)
        {
            Assert.Equal(_out, Path.GetDirectoryName(plot));
            Assert.Contains($"]({Path.GetFileName(plot)})", text);
        }
        // Two iterations with trees, pairs and DPO training: every plot has data, and the table has rows 0-2.
        Assert.DoesNotContain("No data yet", text);
        Assert.Contains("| 0 | ", text);
        Assert.Contains("| 2 | ", text);
    }

    [Fact]
    public async Task Report_RunWithoutIterations_PlotsSayNoDataInsteadOfFailing()
    {
        var (markdown, plots) = await ReportAsync(StoredRunFixture.Failed);

        AssertPngs(plots);
        var text = await File.ReadAllTextAsync(markdown);
        Assert.Contains("Status **failed**", text);
        Assert.Contains("No iteration has finished yet.", text);
        Assert.Equal(plots.Count, text.Split("*No data yet.*").Length - 1);
    }

    [Fact]
    public async Task Report_UnknownRun_ExitsWithUserError()
    {
        var (code, _, error) = await Spar("report", "nope", "--home", fixture.Home, "--out", _out);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("error: No run 'nope'", error);
        Assert.False(Directory.Exists(_out));
    }

    private async Task<(string Markdown, List<string> Plots)> ReportAsync(string run)
    {
        var (code, output, error) = await Spar("report", run, "--home", fixture.Home, "--out", _out, "--format", "json");
        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        using var result = JsonDocument.Parse(output);
        var markdown = result.RootElement.GetProperty("markdown").GetString()!;
        Assert.Equal(Path.Combine(_out, "report.md"), markdown);
        return (markdown, result.RootElement.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList());
    }

    private static void AssertPngs(IEnumerable<string> plots)
    {
        foreach (var plot in plots)
        {
            var bytes = File.ReadAllBytes(plot);
            // Even a "no data" plot has axes, grid and ticks (about 4 kB with no font installed, 20 kB with one).
            Assert.True(bytes.Length > 2_000, $"{plot} has only {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes[..8]);
            // IHDR: the 800 x 450 the report draws at (big-endian width and height).
            Assert.Equal(800, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
            Assert.Equal(450, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        }
    }
}
