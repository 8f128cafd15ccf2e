using System.Text.Json;
using SparOrleans.Client.Cli;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

[Collection(StoredRunCollection.Name)]
public sealed class ListCommandTests(StoredRunFixture fixture)
{
    [Fact]
    public async Task List_FormatJson_PrintsEveryRunWithIdStatusIterationAndCreatedOldestFirst()
    {
        var (code, output, error) = await Spar("list", "--home", fixture.Home, "--format", "json");

        Assert.True(code == ExitCodes.Success, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        var runs = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal([StoredRunFixture.Failed, StoredRunFixture.Completed], runs.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(["failed", "completed"], runs.Select(r => r.GetProperty("status").GetString()));
        // The failed run stopped in its bootstrap (iteration 0); the completed one is past its last iteration.
        Assert.Equal([0, 3], runs.Select(r => r.GetProperty("iteration").GetInt32()));
        var created = runs.Select(r => r.GetProperty("created").GetDateTimeOffset()).ToList();
        Assert.All(created, c => Assert.InRange(c, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow));
        Assert.True(created[0] <= created[1]);
    }

    [Fact]
    public async Task List_Text_PrintsOneLinePerRun()
    {
        var (code, output, _) = await Spar("list", "--home", fixture.Home);

        Assert.Equal(ExitCodes.Success, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"{StoredRunFixture.Failed}\tfailed\titeration 0", lines[0]);
        Assert.StartsWith($"{StoredRunFixture.Completed}\tcompleted\titeration 3", lines[1]);
    }
}
