using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.World.Benchmark;
using SparOrleans.World.Composition;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;
using SparOrleans.World.Teaching;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar world</c>: look at the simulated instruction-following world (prompts, teacher, benchmark).</summary>
public static class WorldCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var world = new Command("world", "The simulated instruction-following world: prompts, teacher answers, held-out benchmark.");
        world.Subcommands.Add(Sample(stdout));
        world.Subcommands.Add(Stats(stdout));
        world.Subcommands.Add(Benchmark(stdout, stderr));
        return world;
    }

    /// <summary><c>spar world sample --n N --seed S --split train|heldout [--level L] [--task T] [--format text|jsonl]</c>.</summary>
    private static Command Sample(TextWriter stdout)
    {
        var (n, seed, split, level, task) = (CountOption(10), SeedOption(), SplitOption(), LevelOption(), TaskOption());
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Jsonl);
        var ifEvalOnly = new Option<bool>("--ifeval-only")
        {
            Description = "Only prompts whose every constraint IFEval can verify (no world-only sim: checks): a prompt file for `spar run --prompts` whose tree winners IFEval can check",
        };
        var command = new Command("sample", "Print composed prompts with their constraint ids and kwargs (text: with the teacher's answer).")
        {
            n, seed, split, level, task, format, ifEvalOnly,
        };
        command.SetAction((ParseResult parse, CancellationToken ct) =>
        {
            var count = parse.GetValue(n);
            IReadOnlyList<WorldPrompt> prompts;
            if (parse.GetValue(ifEvalOnly))
            {
                // A fixed draw, filtered: the same arguments give the same prompts. Most prompts qualify; 8x is ample.
                var wanted = Positive(count, "--n");
                prompts = Compose(checked(wanted * 8), parse.GetValue(seed), parse.GetValue(split)!, parse.GetValue(level), parse.GetValue(task))
                    .Where(p => !p.InstructionIds.Any(WorldInstructions.IsSim)).Take(wanted).ToList();
                if (prompts.Count < wanted)
                {
                    throw new UserInputException($"only {prompts.Count} of {wanted * 8} prompts drawn had IFEval-verifiable constraints alone; ask for fewer, or another --level/--task.");
                }
            }
            else
            {
                prompts = Compose(count, parse.GetValue(seed), parse.GetValue(split)!, parse.GetValue(level), parse.GetValue(task));
            }
            for (var i = 0; i < prompts.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var answer = Teacher.Answer(prompts[i]);
                if (parse.GetValue(format) == OutputFormat.Jsonl)
                {
                    stdout.WriteLine(JsonLine(prompts[i], i, answer));
                }
                else
                {
                    WriteText(stdout, prompts[i], i, answer);
                }
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary><c>spar world stats --n N --seed S [--split] [--level L] [--format text|json]</c>.</summary>
    private static Command Stats(TextWriter stdout)
    {
        var (n, seed, split, level, task) = (CountOption(500), SeedOption(), SplitOption(), LevelOption(), TaskOption());
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("stats", "Measure the teacher on sampled prompts: correctness, judgment agreement, refinement success, "
            + "and mean similarity of (flawed, refined) vs (independent incorrect, independent correct) pairs.")
        {
            n, seed, split, level, task, format,
        };
        command.SetAction((ParseResult parse, CancellationToken ct) =>
        {
            var prompts = Compose(parse.GetValue(n), parse.GetValue(seed), parse.GetValue(split)!, parse.GetValue(level), parse.GetValue(task));
            var stats = WorldStats.Measure(prompts, parse.GetValue(seed));
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, stats);
                return Task.FromResult(ExitCodes.Success);
            }
            string Pct(double x) => (100 * x).ToString("F1", CultureInfo.InvariantCulture) + "%";
            string Sim(double x) => x.ToString("F3", CultureInfo.InvariantCulture);
            stdout.WriteLine($"prompts                              {stats.Prompts}");
            stdout.WriteLine($"levels 1-5                           {string.Join(" / ", stats.Levels.OrderBy(kv => kv.Key).Select(kv => kv.Value))}");
            stdout.WriteLine($"teacher answers passing all checks   {Pct(stats.AnswerPassRate)}");
            stdout.WriteLine($"judgments agreeing with verifiers    {Pct(stats.JudgeAgreement)}");
            stdout.WriteLine($"near misses found (1 violation)      {Pct(stats.FlawedRate)}");
            stdout.WriteLine($"refinements passing all checks       {Pct(stats.RefineSuccess)} (minimal edits: {Pct(stats.RefineMinimal)})");
            stdout.WriteLine($"similarity (flawed, refined)         {Sim(stats.RefinementSimilarity)}   paper: 0.90");
            stdout.WriteLine($"similarity (independent pairs)       {Sim(stats.IndependentSimilarity)}   paper: 0.85");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary><c>spar world benchmark --output FILE [--n N] [--seed S] [--include-sim]</c>: the held-out set as IFEval input.</summary>
    private static Command Benchmark(TextWriter stdout, TextWriter stderr)
    {
        var n = CountOption(SimBenchmark.DefaultCount);
        var seed = new Option<int>("--seed") { Description = "Seed of the held-out set", DefaultValueFactory = _ => SimBenchmark.DefaultSeed };
        var output = new Option<FileInfo>("--output") { Description = "IFEval input JSONL to write", Required = true };
        var includeSim = new Option<bool>("--include-sim")
        {
            Description = "Keep prompts with world-only sim: checks (the plain IFEval scorer cannot score them)",
        };
        var command = new Command("benchmark", "Write the world's held-out prompts as an IFEval input file (for spar eval ifeval).")
        {
            n, seed, output, includeSim,
        };
        command.SetAction((ParseResult parse, CancellationToken ct) =>
        {
            var count = Positive(parse.GetValue(n), "--n");
            var prompts = SimBenchmark.HeldOut(count, parse.GetValue(seed), ifEvalOnly: !parse.GetValue(includeSim));
            var file = parse.GetValue(output)!;
            SimBenchmark.WriteInputJsonl(file.FullName, SimBenchmark.ToIfEval(prompts));
            stderr.WriteLine($"wrote {prompts.Count} held-out prompts to {file.FullName}");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static IReadOnlyList<WorldPrompt> Compose(int n, int seed, string split, int? level, string? task)
    {
        var count = Positive(n, "--n");
        var worldSplit = split.ToLowerInvariant() switch
        {
            "train" => WorldSplit.Train,
            "heldout" or "held-out" => WorldSplit.HeldOut,
            _ => throw new UserInputException($"--split must be train or heldout (got '{split}')"),
        };
        if (level is < 1 or > 5)
        {
            throw new UserInputException($"--level must be between 1 and 5 (got {level})");
        }
        TaskType? type = null;
        if (task is not null)
        {
            type = Enum.GetValues<TaskType>().Where(t => SeedTask.TypeNameOf(t) == task.ToLowerInvariant()).Cast<TaskType?>().FirstOrDefault();
            if (type is null)
            {
                var known = string.Join(", ", Enum.GetValues<TaskType>().Select(SeedTask.TypeNameOf));
                throw new UserInputException($"--task must be one of {known} (got '{task}')");
            }
            if (level is { } l && !PromptComposer.SupportsLevel(type.Value, l))
            {
                throw new UserInputException($"--task {task} cannot have --level {l}");
            }
        }
        return new PromptComposer().Sample(count, seed, worldSplit, level, type);
    }

    internal static string JsonLine(WorldPrompt prompt, int index, string answer)
    {
        var example = SimBenchmark.ToIfEval(prompt, index);
        var obj = JsonNode.Parse(SimBenchmark.ToJsonLine(example))!.AsObject();
        obj["level"] = prompt.Level;
        obj["family"] = prompt.Family.ToString().ToLowerInvariant();
        obj["task"] = prompt.Task.TypeName;
        obj["constraints"] = new JsonArray([.. prompt.Constraints.Select(c => JsonValue.Create(c.Kind.Name))]);
        obj["split"] = prompt.Split == WorldSplit.HeldOut ? "heldout" : "train";
        obj["seed"] = prompt.Seed;
        obj["teacher_response"] = answer;
        return obj.ToJsonString(CliOutput.Json);
    }

    private static void WriteText(TextWriter stdout, WorldPrompt prompt, int index, string answer)
    {
        stdout.WriteLine($"#{index + 1}  level {prompt.Level}  task {prompt.Task.TypeName}  main {prompt.Main.Kind.Name} ({prompt.Family.ToString().ToLowerInvariant()})");
        stdout.WriteLine($"prompt: {prompt.Text}");
        foreach (var c in prompt.Constraints)
        {
            stdout.WriteLine($"  - {c.Kind.InstructionId} {c.Kwargs().ToJsonString()}");
        }
        stdout.WriteLine("teacher:");
        foreach (var line in answer.Split('\n'))
        {
            stdout.WriteLine($"  | {line}");
        }
        stdout.WriteLine();
    }

    /// <summary>Most prompts one command composes: a mistyped count would otherwise exhaust memory.</summary>
    private const int MaxPrompts = 100_000;

    private static int Positive(int value, string name) =>
        value is >= 1 and <= MaxPrompts ? value : throw new UserInputException($"{name} must be between 1 and {MaxPrompts} (got {value})");

    private static Option<int> CountOption(int defaultValue) =>
        new("--n") { Description = $"Number of prompts (default {defaultValue})", DefaultValueFactory = _ => defaultValue };

    private static Option<int> SeedOption() =>
        new("--seed") { Description = "Seed: the same seed gives the same prompts (default 1)", DefaultValueFactory = _ => 1 };

    private static Option<string> SplitOption() =>
        new("--split") { Description = "train or heldout (default train)", DefaultValueFactory = _ => "train" };

    private static Option<int?> LevelOption() =>
        new("--level") { Description = "Difficulty level 1-5 = number of constraints (default: drawn uniformly)" };

    private static Option<string?> TaskOption() =>
        new("--task") { Description = "Task type: story, list, description, letter, dialogue, start_end_story, letter_copies (default: drawn)" };
}
