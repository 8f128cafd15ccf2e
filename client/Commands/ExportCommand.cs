using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Errors;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar export RUN [--iteration T] --what dpo|rft|judgments|trees --to FILE [--style trl|llama-factory]</c>.</summary>
public static class ExportCommand
{
    private static readonly Dictionary<string, ExportKind> Kinds = new()
    {
        ["dpo"] = ExportKind.Dpo, ["rft"] = ExportKind.Rft, ["judgments"] = ExportKind.Judgments, ["trees"] = ExportKind.Trees,
    };

    private static readonly Dictionary<string, ExportStyle> Styles = new()
    {
        ["trl"] = ExportStyle.Trl, ["llama-factory"] = ExportStyle.LlamaFactory,
    };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var run = new Argument<string>("RUN") { Description = "The run to export from (see spar list)" };
        var iteration = new Option<int?>("--iteration") { Description = "Iteration T >= 1 (default: the last finished one)" };
        var what = new Option<string>("--what") { Description = "dpo (actor pairs), rft (refiner SFT set), judgments (every vote, JSONL) or trees (JSON)", Required = true };
        var to = new Option<FileInfo>("--to") { Description = "The file to write (replaced whole, never half-written)", Required = true };
        var style = new Option<string>("--style") { Description = "Layout of dpo/rft files: trl or llama-factory (sharegpt messages)", DefaultValueFactory = _ => "trl" };
        var home = SparHome.Option();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("export", """
            Writes one iteration of a stored run as a file, from the stored state (no silo is started):
              dpo        the actor's DPO pairs: TRL {"prompt","chosen","rejected"} or LLaMA-Factory sharegpt
              rft        the refiner's RFT set, exactly as trained: TRL {"messages":[...]} or LLaMA-Factory sharegpt
              judgments  JSONL, one line per vote (actor samples and tree nodes): votes, verdict, verifier truth
              trees      JSON, each prompt's refinement tree: nodes with parent, depth, response, votes and V
            Examples:
              spar export run-20261122-180000 --what dpo --to pairs.jsonl
              spar export my-run --iteration 2 --what rft --style llama-factory --to rft.jsonl
              spar export my-run --what trees --to trees.json --format json
            """)
        {
            run, iteration, what, to, style, home, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var kind = Choice(Kinds, "--what", parse.GetValue(what)!);
            var layout = Choice(Styles, "--style", parse.GetValue(style)!);
            if (parse.GetValue(iteration) is < 1)
            {
                throw new UserInputException($"--iteration must be at least 1 (got {parse.GetValue(iteration)}): iteration 0 is the bootstrap, which has no prompts.");
            }
            var store = new RunStore(SparHome.From(parse, home).StateDirectory);
            var path = parse.GetValue(to)!.FullName;
            ExportResult result;
            try
            {
                result = await RunExport.ExportAsync(store, parse.GetValue(run)!, parse.GetValue(iteration), kind, layout, path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"Cannot write {path}: {e.Message}", e);
            }
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, new { result.File, result.Count, result.RunId, result.Iteration, What = parse.GetValue(what), Style = parse.GetValue(style) });
            }
            else
            {
                var unit = kind == ExportKind.Trees ? "trees" : "lines";
                await stdout.WriteLineAsync($"wrote {result.Count} {unit} ({parse.GetValue(what)}, iteration {result.Iteration} of {result.RunId}) to {result.File}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static T Choice<T>(Dictionary<string, T> choices, string option, string value) =>
        choices.TryGetValue(value.ToLowerInvariant(), out var choice)
            ? choice
            : throw new UserInputException($"{option} must be one of {string.Join(", ", choices.Keys)} (got '{value}').");
}
