using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Watch;
using SparOrleans.Core.Errors;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar watch RUN [--prompt ID] [--iteration T] [--once]</c>: the live per-prompt search view.</summary>
public static class WatchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var run = new Argument<string>("RUN") { Description = "The run to watch (see spar list)" };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt whose refinement tree to show, by prompt id (default: the first one in search)" };
        var iteration = new Option<int?>("--iteration") { Description = "The iteration to show (default: the current one)" };
        var once = new Option<bool>("--once") { Description = "Show one frame and exit (for scripts)" };
        var context = new Option<int>("--context") { Description = "Unchanged words kept around each edit in a node's diff (1-1000)", DefaultValueFactory = _ => 8 };
        var home = SparHome.Option();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("watch", """
            Shows a run as it runs: the iteration's prompts (done / in search / with winner / failed, expansions,
            throughput) and one prompt's refinement tree, each node with its votes, V, depth and the words it changed
            from its parent ([-old-]{+new+} when not on a terminal). Joins the silo of `spar run`/`spar resume`, and
            reconnects by itself when the run is resumed; with no silo running it shows the stored state once.
            --format json prints one JSON object per frame, one line each (a single one with --once).
            Examples:
              spar watch run-20261122-180000
              spar watch run-20261122-180000 --prompt run-20261122-180000-p0003 --iteration 2
              spar watch run-20261122-180000 --once --format json
            """)
        {
            run, prompt, iteration, once, context, home, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var contextWords = parse.GetValue(context);
            if (contextWords is < 1 or > 1000)
            {
                throw new UserInputException($"--context must be between 1 and 1000 (got {contextWords}).");
            }
            var request = new WatchRequest(parse.GetValue(run)!, parse.GetValue(prompt), parse.GetValue(iteration), parse.GetValue(once));
            IWatchSink sink = parse.GetValue(format) == OutputFormat.Json
                ? new JsonWatchSink(stdout, stderr)
                : new TextWatchSink(stdout, stderr, terminal: stdout == Console.Out && !Console.IsOutputRedirected, new WatchViewOptions(ContextWords: contextWords));
            var final = await new WatchSession(SparHome.From(parse, home).StateDirectory, request, sink).RunAsync(ct);
            return final == RunStatusKind.Failed ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }
}
