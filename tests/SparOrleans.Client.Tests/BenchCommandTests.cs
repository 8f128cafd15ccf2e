using System.Text.Json;
using SparOrleans.Client.Cli;

namespace SparOrleans.Client.Tests;

public class BenchCommandTests
{
    [Fact]
    public async Task BenchEngine_QuickJson_ReportsEveryFigure()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SparCli.InvokeAsync(["bench", "engine", "--quick", "--threads", "1", "--format", "json"], stdout, stderr);
        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        foreach (var key in new[] { "train_tokens_per_s", "train_fraction_of_mm", "decode_batch32_over_batch1", "continuous_over_static", "mm_gflops" })
        {
            Assert.True(root.GetProperty(key).GetDouble() > 0, $"{key} should be positive");
        }
        var decode = root.GetProperty("decode_tokens_per_s");
        Assert.Equal(["1", "8", "32", "64"], decode.EnumerateObject().Select(p => p.Name));
        Assert.Contains("engine benchmark", stderr.ToString());
    }

    [Fact]
    public async Task BenchEngine_BadThreads_UserError()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SparCli.InvokeAsync(["bench", "engine", "--quick", "--threads", "0"], stdout, stderr);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("threads", stderr.ToString());
    }
}
