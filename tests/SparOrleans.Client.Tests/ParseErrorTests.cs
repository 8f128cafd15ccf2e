using SparOrleans.Client.Cli;
using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>A command line the parser refuses is a user mistake like any other: one error line naming it, exit 2.</summary>
public sealed class ParseErrorTests
{
    [Theory]
    [InlineData("run --iterations abc", "'abc' for option '--iterations' as an integer", "spar run --help")]
    [InlineData("run --foo", "Unrecognized command or argument '--foo'", "spar run --help")]
    [InlineData("run --policy bogus", "Argument 'bogus' not recognized. Must be one of: 'bfs' 'dfs'", "spar run --help")]
    [InlineData("eval ifeval --input x.jsonl", "Option '--responses' is required", "spar eval ifeval --help")]
    [InlineData("world sample --n x", "'x' for option '--n' as an integer", "spar world sample --help")]
    [InlineData("nonsense", "Unrecognized command or argument 'nonsense'", "spar --help")]
    public async Task ParseError_OneLineExit2_NamesTheProblemAndTheHelp(string line, string problem, string help)
    {
        var (code, output, error) = await Spar(line.Split(' '));

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Equal("", output);
        var only = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", only);
        Assert.Contains(problem, only);
        Assert.Contains($"`{help}`", only);
    }
}
