using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar export RUN [--iteration T] --what dpo|rft|judgments|trees --to FILE [--style trl|llama-factory]
/// [--role-format paper|compact]</c>. The role format is <c>--role-format</c>, not <c>--format</c>, because
/// <c>--format text|json</c> is every verb's output format.
/// </summary>
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
        var style = new Option<string>("--style")
        {
            Description = "Layout of dpo/rft files: trl (conversational) or llama-factory (sharegpt, registered in dataset_info.json beside the file)",
            DefaultValueFactory = _ => "trl",
        };
        var roleFormat = new Option<string?>("--role-format")
        {
            Description = "Prompts of dpo/rft files: paper (Figure 8 templates, for real models) or compact (default: the run's own, compact)",
        };
        var home = SparHome.Option();
        var source = new StoredRunSource();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("export", """
            Writes one iteration of a stored run as a file, from the stored state (no silo is started):
              dpo        the actor's DPO pairs: TRL conversational preference {"prompt":[...],"chosen":[...],"rejected":[...]}
                         or LLaMA-Factory sharegpt {"messages":[...],"chosen":{...},"rejected":{...}} (ranking)
              rft        the refiner's RFT set, exactly as trained: TRL conversational {"messages":[...]} or
                         LLaMA-Factory sharegpt {"messages":[...]}
              judgments  JSONL, one line per vote (actor samples and tree nodes): votes, verdict, verifier truth
              trees      JSON, each prompt's refinement tree: nodes with parent, depth, response, votes and V
            --style llama-factory also adds the file to dataset_info.json in its folder (other entries kept), named
            after the file, so LLaMA-Factory's dataset_dir can point at that folder. --role-format paper writes the
            prompts with the paper's Figure 8 templates (judgments and refinements re-rendered), for real models.
            Examples:
              spar export run-20261122-180000 --what dpo --to pairs.jsonl
              spar export my-run --iteration 2 --what rft --style llama-factory --role-format paper --to data/rft.jsonl
              spar export my-run --what trees --to trees.json --format json
              spar export cluster-1 --what dpo --to pairs.jsonl --storage azurite:10000   a run of a spar silo cluster
            """)
        {
            run, iteration, what, to, style, roleFormat, home, format,
        };
        source.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var kind = Choice(Kinds, "--what", parse.GetValue(what)!);
            var layout = Choice(Styles, "--style", parse.GetValue(style)!);
            var prompts = parse.GetValue(roleFormat) is { } name
                ? Choice(RoleFormats.Names.ToDictionary(n => n, RoleFormats.ByName), "--role-format", name)
                : null;
            if (parse.GetValue(iteration) is < 1)
            {
                throw new UserInputException($"--iteration must be at least 1 (got {parse.GetValue(iteration)}): iteration 0 is the bootstrap, which has no prompts.");
            }
            var store = source.Open(parse, home);
            var path = parse.GetValue(to)!.FullName;
            ExportResult result;
            try
            {
                result = await RunExport.ExportAsync(store, parse.GetValue(run)!, parse.GetValue(iteration), kind, layout, path, ct, prompts);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"Cannot write {path}: {e.Message}", e);
            }
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, new
                {
                    result.File, result.Count, result.RunId, result.Iteration, What = parse.GetValue(what), Style = parse.GetValue(style),
                    result.RoleFormat, result.DatasetInfo, result.DatasetName,
                });
            }
            else
            {
                var unit = kind == ExportKind.Trees ? "trees" : "lines";
                var rendered = result.RoleFormat is { } f ? $", {f} format" : "";
                await stdout.WriteLineAsync($"wrote {result.Count} {unit} ({parse.GetValue(what)}, iteration {result.Iteration} of {result.RunId}{rendered}) to {result.File}");
                if (result.DatasetInfo is not null)
                {
                    await stdout.WriteLineAsync($"registered as dataset '{result.DatasetName}' in {result.DatasetInfo}");
                }
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
