using System.CommandLine;
using SparOrleans.Client.Commands;
using SparOrleans.Core.Errors;

namespace SparOrleans.Client.Cli;

/// <summary>The `spar` command tree and its error policy: user mistakes print one line and exit 2.</summary>
public static class SparCli
{
    public static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("spar: SPaR self-play (actor + refiner, tree-search refinement, DPO/RFT) on Orleans.");
        IEnumerable<Command> commands =
        [
            .. RunCommands.Create(stdout, stderr),
            ExportCommand.Create(stdout, stderr),
            ReportCommand.Create(stdout, stderr),
            WatchCommand.Create(stdout, stderr),
            EvalCommand.Create(stdout, stderr),
            WorldCommand.Create(stdout, stderr),
            SearchCommand.Create(stdout, stderr),
            BenchCommand.Create(stdout, stderr),
            GenerateCommand.Create(stdout, stderr),
            MergeCommand.Create(stdout, stderr),
            ServeCommand.Create(stdout, stderr),
            TrainCommand.Create(stdout, stderr),
            SiloCommand.Create(stdout, stderr),
            ExperimentCommand.Create(stdout, stderr),
        ];
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }
        // `eval llmbar` joins the eval verbs here so that EvalCommand's benchmark list stays as it is.
        root.Subcommands.Single(c => c.Name == "eval").Subcommands.Add(EvalLlmBarCommand.Create(stdout, stderr));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = BuildRoot(stdout, stderr);
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return await root.Parse(args).InvokeAsync(config);
        }
        catch (UserInputException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.UserError;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("cancelled.");
            return ExitCodes.Cancelled;
        }
    }
}
