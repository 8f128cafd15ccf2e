using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Simulator;
using SparOrleans.Verifiers.IfEval.Scoring;
using SparOrleans.World.Benchmark;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar eval sim</c>: the simulated world's held-out benchmark, scored like IFEval. Score a response file, or let
/// a model checkpoint answer (greedy) and score that.
/// </summary>
public static class EvalSimCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var responses = new Option<FileInfo?>("--responses") { Description = "Response JSONL ({\"prompt\":..,\"response\":..} per line) to score" };
        var model = new Option<DirectoryInfo?>("--model") { Description = "An actor checkpoint directory (e.g. runs/<run>/models/actor-3) to answer the benchmark greedily" };
        var count = new Option<int>("--n") { Description = "Held-out prompts (default 500)", DefaultValueFactory = _ => SimBenchmark.DefaultCount };
        var seed = new Option<int>("--seed") { Description = "Held-out draw seed (default: the benchmark's fixed seed)", DefaultValueFactory = _ => SimBenchmark.DefaultSeed };
        var output = new Option<DirectoryInfo?>("--output") { Description = "Directory for eval_results_strict.jsonl / eval_results_loose.jsonl (and responses.jsonl with --model)" };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("sim", """
            The simulator's held-out benchmark (IFEval-style: prompt/instruction level, strict/loose).
            Examples:
              spar eval sim --model runs/run-1/models/actor-3
              spar world benchmark --output heldout.jsonl   (the prompts, to answer elsewhere)
              spar eval sim --responses answers.jsonl --format json
            """)
        {
            responses, model, count, seed, output, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var responseFile = parse.GetValue(responses);
            var modelDir = parse.GetValue(model);
            if (responseFile is null == modelDir is null)
            {
                throw new UserInputException("give exactly one of --responses FILE and --model DIR.");
            }
            var n = parse.GetValue(count);
            if (n is < 1 or > 5000)
            {
                throw new UserInputException($"--n must be between 1 and 5000 (got {n}).");
            }
            if (parse.GetValue(output) is { } outputDir)
            {
                // Checked before the model answers: minutes of generation would be lost.
                OutputPaths.EnsureWritable(outputDir.FullName, "--output");
            }
            // A bad response file is refused before the held-out set is composed.
            var given = responseFile is null ? null : IfEvalFiles.ReadResponses(responseFile.FullName);
            var prompts = SimBenchmark.HeldOut(n, parse.GetValue(seed));
            var examples = SimBenchmark.ToIfEval(prompts);
            IReadOnlyDictionary<string, string> byPrompt;
            string source;
            if (modelDir is not null)
            {
                if (!Directory.Exists(modelDir.FullName))
                {
                    throw new UserInputException($"no model directory {modelDir.FullName}.");
                }
                var options = SimulatorOptions.Default;
                await using var runner = SimulatorModels.Load(modelDir.FullName, options);
                var answers = await runner.GenerateAllAsync(prompts.Select(p => RoleFormats.Compact.ActorPrompt(p.Text)).ToList(), 0,
                    SimulatorOptions.ActorCapFor(runner.Model.Tokenizer, options.ActorMaxNewTokens), options.Seed, null, "eval-actor", ct);
                byPrompt = examples.Select((e, i) => (e.Prompt, answers[i])).ToDictionary(x => x.Prompt, x => x.Item2);
                source = modelDir.FullName;
            }
            else
            {
                byPrompt = given!;
                source = responseFile!.FullName;
            }
            var report = EvalCommand.IfEval.Score(examples, byPrompt, source, parse.GetValue(output));
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, report.Accuracies);
            }
            else
            {
                EvalCommand.IfEval.WriteText(stdout, report);
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
