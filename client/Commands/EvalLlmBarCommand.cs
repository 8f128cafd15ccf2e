using SparOrleans.Models.Evaluation;
using SparOrleans.Models.Generation;
using System.CommandLine;
using System.Globalization;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Simulator;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar eval llmbar --data DIR --model DIR [--votes K] [--limit N] [--role-format auto|paper|compact]</c>: the
/// refiner's judgment on LLMBar turned point-wise (paper §3.2, Table 2; voting as in Table 9), per subset and averaged.
/// </summary>
public static class EvalLlmBarCommand
{
    /// <summary>The default generation cap of one judgment (tokens); the simulator's judge cap is 384.</summary>
    public const int DefaultMaxNewTokens = 384;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Folder of LLMBar *.json files (Natural.json, Adversarial_*.json)", Required = true };
        var model = new Option<DirectoryInfo>("--model") { Description = "A refiner checkpoint directory (e.g. runs/<run>/models/refiner-3)", Required = true };
        var votes = new Option<int>("--votes") { Description = "Judge samples per output: 1 = greedy (default), K > 1 = majority voting@K at temperature 0.7", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N pairs of each file (default: all)" };
        var roleFormat = new Option<string>("--role-format")
        {
            Description = "Judge prompt/answer format: auto (compact for models with the simulator's compact chat template, which are trained in it; paper otherwise), paper or compact",
            DefaultValueFactory = _ => "auto",
        };
        roleFormat.AcceptOnlyFromAmong(["auto", .. RoleFormats.Names]);
        var maxNew = new Option<int>("--max-new-tokens") { Description = $"Cap of one judgment (default {DefaultMaxNewTokens}, 1–8192)", DefaultValueFactory = _ => DefaultMaxNewTokens };
        var seed = new Option<int>("--seed") { Description = "Sampling seed of the votes (default 0)", DefaultValueFactory = _ => 0 };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("llmbar", """
            The refiner's judgment on LLMBar, point-wise: each output of a pair judged alone (truth: the labelled one
            follows, the other does not); accuracy and Yes-class F1 per subset, the adversarial average and the
            overall average (macro, as the paper's Table 2).
            Example: spar eval llmbar --data ../shared/data/llmbar --model runs/run-1/models/refiner-3 --votes 5
            """)
        {
            data, model, votes, limit, roleFormat, maxNew, seed, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var k = parse.GetValue(votes);
            if (k is < 1 or > 64)
            {
                throw new UserInputException($"--votes must be between 1 and 64 (got {k}).");
            }
            if (parse.GetValue(limit) is < 1)
            {
                throw new UserInputException($"--limit must be at least 1 (got {parse.GetValue(limit)}).");
            }
            var cap = parse.GetValue(maxNew);
            if (cap is < 1 or > 8192)
            {
                throw new UserInputException($"--max-new-tokens must be between 1 and 8192 (got {cap}).");
            }
            var pairs = LlmBar.ReadDirectory(parse.GetValue(data)!.FullName, parse.GetValue(limit));
            var modelDir = parse.GetValue(model)!;
            if (!Directory.Exists(modelDir.FullName))
            {
                throw new UserInputException($"no model directory {modelDir.FullName}.");
            }
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            await using var runner = ModelRunner.Load(modelDir.FullName, SimulatorOptions.Default.Device, SimulatorOptions.Default.GenerationBatch, SimulatorOptions.Default.EffectiveThreads);
            var role = ChooseFormat(parse.GetValue(roleFormat)!, runner.Model.Template.Name);
            await human.WriteLineAsync($"judging {pairs.Count} pairs ({2 * pairs.Count} outputs, {k} vote(s) each) in the {role.Name} format");
            var report = await LlmBar.EvaluateAsync(runner, modelDir.FullName, role, pairs, k, cap, parse.GetValue(seed), null, ct);
            if (json)
            {
                CliOutput.WriteJson(stdout, report);
            }
            else
            {
                WriteText(stdout, report);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The role format for a model: the simulator trains every role in <see cref="RoleFormats.Compact"/> on byte-level
    /// models (no format is stored in a checkpoint), and real checkpoints answer the paper's templates.
    /// </summary>
    // The chat template tells how the model was trained: the simulator's compact one (bytes or subwords) means its
    // compact role format, a real checkpoint's template the paper's.
    public static IRoleFormat ChooseFormat(string name, string chatTemplate) =>
        name == "auto" ? (chatTemplate == "compact" ? RoleFormats.Compact : RoleFormats.Paper) : RoleFormats.ByName(name);

    private static void WriteText(TextWriter stdout, LlmBarReport report)
    {
        stdout.WriteLine($"LLMBar point-wise, {report.RoleFormat} format, {(report.Votes == 1 ? "greedy" : $"majority voting@{report.Votes}")}, {report.Seconds:F1} s");
        stdout.WriteLine($"{"subset",-24} {"pairs",5} {"acc",6} {"f1",6} {"invalid",7} {"too long",8}");
        foreach (var row in report.Subsets.Append(report.AdversarialAverage).Append(report.Average).OfType<LlmBarScore>())
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Subset,-24} {row.Pairs,5} {100 * row.Accuracy,6:F1} {100 * row.F1,6:F1} {row.Invalid,7} {row.TooLong,8}"));
        }
    }
}
