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
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                // One line, as for every other user mistake: the whole help after a typo buries the typo.
                var names = new List<string>();
                for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
                {
                    names.Insert(0, result.Command == root ? "spar" : result.Command.Name);
                }
                // A misspelt verb also leaves "required command was not provided": the misspelling is the news.
                var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
                await WriteErrorAsync(stderr, $"{Readable(error.Message)} (`{string.Join(' ', names)} --help` lists the options)");
                return ExitCodes.UserError;
            }
            return await parse.InvokeAsync(config);
        }
        catch (UserInputException e)
        {
            await WriteErrorAsync(stderr, e.Message);
            return ExitCodes.UserError;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (Environmental(e) is { } problem)
        {
            await WriteErrorAsync(stderr, problem);
            return ExitCodes.UserError;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SPAR_DEBUG") != "1")
        {
            // A bug, not the user's mistake: still one line (SPAR_DEBUG=1 shows the stack trace).
            await WriteErrorAsync(stderr, $"internal error ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}); please report it with the command line. SPAR_DEBUG=1 shows where it happened.");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// The one line a failed command prints: on one line whatever the message holds, and with any credential of a
    /// connection string the user gave masked (messages echo --cluster, --redis and --storage values).
    /// </summary>
    private static Task WriteErrorAsync(TextWriter stderr, string message) =>
        stderr.WriteLineAsync($"error: {Secrets.Redact(message.ReplaceLineEndings(" ").Trim())}");

    /// <summary>
    /// Failures of the machine or its files rather than of our code: a path that cannot be written, a port in use, a
    /// corrupt file. Said in one line like a user mistake.
    /// </summary>
    private static string? Environmental(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case UnauthorizedAccessException:
                case IOException when x.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                case System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }:
                    return x.Message.ReplaceLineEndings(" ");
                case System.Text.Json.JsonException json:
                    return $"a stored or given JSON file is corrupt ({json.Message.ReplaceLineEndings(" ")})";
            }
        }
        return e is IOException io ? io.Message.ReplaceLineEndings(" ") : null;
    }

    /// <summary>The parser's message with .NET type names said in words.</summary>
    private static string Readable(string message) => message
        .Replace("System.Nullable`1[System.Int32]", "an integer").Replace("System.Int32", "an integer")
        .Replace("System.Nullable`1[System.Int64]", "an integer").Replace("System.Int64", "an integer")
        .Replace("System.Nullable`1[System.Double]", "a number").Replace("System.Double", "a number")
        .Replace("System.Boolean", "true or false")
        .Replace("as expected type 'an integer'", "as an integer").Replace("as expected type 'a number'", "as a number")
        .Replace("as expected type 'true or false'", "as true or false")
        .ReplaceLineEndings(" ").Replace('\t', ' ').Replace("  ", " ").Trim();
}
