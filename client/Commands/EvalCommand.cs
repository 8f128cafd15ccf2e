using System.CommandLine;
using System.Globalization;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar eval</c>: the evaluation subcommands (one per benchmark).</summary>
public static class EvalCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var eval = new Command("eval", "Score model responses on a benchmark.");
        // One line per benchmark subcommand.
        foreach (var subcommand in new[]
                 {
                     IfEval.Create(stdout, stderr),
                     EvalSimCommand.Create(stdout, stderr),
                 })
        {
            eval.Subcommands.Add(subcommand);
        }
        return eval;
    }

    /// <summary><c>spar eval ifeval --input FILE --responses FILE [--output DIR] [--format text|json]</c>.</summary>
    public static class IfEval
    {
        public static Command Create(TextWriter stdout, TextWriter stderr)
        {
            var input = new Option<FileInfo>("--input")
            {
                Description = "IFEval input JSONL (key, prompt, instruction_id_list, kwargs)",
                Required = true,
            };
            var responses = new Option<FileInfo>("--responses")
            {
                Description = "Response JSONL, one {\"prompt\": .., \"response\": ..} per line, matched by prompt text",
                Required = true,
            };
            var output = new Option<DirectoryInfo?>("--output")
            {
                Description = "Directory for eval_results_strict.jsonl and eval_results_loose.jsonl (official format)",
            };
            var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
            var command = new Command("ifeval", "IFEval accuracies (prompt/instruction level, strict/loose) and a per-instruction table.")
            {
                input, responses, output, format,
            };
            command.SetAction((ParseResult parse, CancellationToken ct) =>
            {
                if (parse.GetValue(output) is { } outputDir)
                {
                    OutputPaths.EnsureWritable(outputDir.FullName, "--output");
                }
                var report = Run(parse.GetValue(input)!, parse.GetValue(responses)!, parse.GetValue(output), ct);
                var json = parse.GetValue(format) == OutputFormat.Json;
                var human = json ? stderr : stdout;
                if (parse.GetValue(output) is { } dir)
                {
                    human.WriteLine($"wrote {Path.Combine(dir.FullName, StrictFile)} and {Path.Combine(dir.FullName, LooseFile)}");
                }
                if (json)
                {
                    CliOutput.WriteJson(stdout, report.Accuracies);
                }
                else
                {
                    WriteText(stdout, report);
                }
                return Task.FromResult(ExitCodes.Success);
            });
            return command;
        }

        public const string StrictFile = "eval_results_strict.jsonl";
        public const string LooseFile = "eval_results_loose.jsonl";

        internal static IfEvalReport Run(FileInfo input, FileInfo responses, DirectoryInfo? output, CancellationToken ct)
        {
            var examples = IfEvalFiles.ReadInput(input.FullName);
            var byPrompt = IfEvalFiles.ReadResponses(responses.FullName);
            ct.ThrowIfCancellationRequested();
            return Score(examples, byPrompt, responses.FullName, output);
        }

        /// <summary>Scores responses (matched by prompt text) and writes the official result files into <paramref name="output"/>.</summary>
        internal static IfEvalReport Score(IReadOnlyList<IfEvalExample> examples, IReadOnlyDictionary<string, string> byPrompt, string source, DirectoryInfo? output)
        {
            var report = IfEvalScorer.Score(examples, byPrompt, source);
            if (output is not null)
            {
                try
                {
                    Directory.CreateDirectory(output.FullName);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UserInputException($"cannot create output directory {output.FullName}: {e.Message}", e);
                }
                IfEvalFiles.WriteResults(Path.Combine(output.FullName, StrictFile), report.Prompts, loose: false);
                IfEvalFiles.WriteResults(Path.Combine(output.FullName, LooseFile), report.Prompts, loose: true);
            }
            return report;
        }

        internal static void WriteText(TextWriter stdout, IfEvalReport report)
        {
            static string F(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);
            var a = report.Accuracies;
            stdout.WriteLine($"IFEval: {report.Prompts.Count} prompts, {report.InstructionCount} instructions");
            stdout.WriteLine($"prompt-level strict:       {F(a.PromptStrict)}");
            stdout.WriteLine($"instruction-level strict:  {F(a.InstructionStrict)}");
            stdout.WriteLine($"prompt-level loose:        {F(a.PromptLoose)}");
            stdout.WriteLine($"instruction-level loose:   {F(a.InstructionLoose)}");
            stdout.WriteLine();
            int width = Math.Max("instruction".Length, report.PerInstruction.Max(r => r.InstructionId.Length));
            stdout.WriteLine($"{"instruction".PadRight(width)}  {"count",5}  {"strict",6}  {"loose",6}");
            foreach (var row in report.PerInstruction)
            {
                stdout.WriteLine($"{row.InstructionId.PadRight(width)}  {row.Count,5}  {F(row.Strict),6}  {F(row.Loose),6}");
            }
        }
    }
}
