using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Errors;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar report RUN [--out DIR]</c>: report.md with PNG plots, from the stored state.</summary>
public static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var run = new Argument<string>("RUN") { Description = "The run to report on (see spar list)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where report.md and the plots go (default: <run output>/report)" };
        var home = SparHome.Option();
        var source = new StoredRunSource();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("report", """
            Writes a Markdown report with PNG plots of a stored run (finished or not; no silo is started): actor
            held-out scores, refiner judgment accuracy/F1, refinement success and tree expansions per iteration, DPO
            reward margins and accuracies over training steps, winner depths, and refinement-pair string similarity.
            Examples:
              spar report run-20261122-180000
              spar report my-run --out report/ --format json
              spar report cluster-1 --storage azurite:10000   a run of a spar silo cluster
            """)
        {
            run, output, home, format,
        };
        source.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var store = source.Open(parse, home);
            ReportResult result;
            try
            {
                result = await RunReport.WriteAsync(store, parse.GetValue(run)!, parse.GetValue(output)?.FullName, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"Cannot write the report: {e.Message}", e);
            }
            if (result.Warning is not null)
            {
                await stderr.WriteLineAsync($"warning: {result.Warning}");
            }
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, result);
            }
            else
            {
                await stdout.WriteLineAsync($"wrote {result.Markdown} with {result.Plots.Count} plots");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
