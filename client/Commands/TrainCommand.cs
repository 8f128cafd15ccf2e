using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Export;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar train sft</c>: supervised fine-tuning of any supported HF checkpoint on a data file in TRL's or
/// LLaMA-Factory's layout, fully or with LoRA. This is how M_0 and R_0 are made from the paper's bootstrap data
/// (D_Actor; D_JSFT + D_RSFT) when that data comes from elsewhere.
/// </summary>
public static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var train = new Command("train", "Train a model outside the SPaR loop.");
        train.Subcommands.Add(Sft(stdout, stderr));
        return train;
    }

    private static Command Sft(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "The model to start from (HF layout)" };
        var data = new Option<FileInfo?>("--data") { Description = "Training data: JSONL or a JSON array; TRL messages / prompt+completion, LLaMA-Factory sharegpt / alpaca rows" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where the result goes: the full model, or with --lora-rank the PEFT adapter (--merge: the merged model)" };
        var loraRank = new Option<int>("--lora-rank") { Description = "Train LoRA adapters of this rank instead of every weight (default 0: full fine-tuning)" };
        var loraAlpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha (default 2 x rank)" };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "LoRA dropout (default 0.05)", DefaultValueFactory = _ => 0.05 };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Comma-separated projections, or all-linear (default)", DefaultValueFactory = _ => "all-linear" };
        var merge = new Option<bool>("--merge") { Description = "With LoRA: write the base with the adapter merged in, a full HF checkpoint" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data (default 1)", DefaultValueFactory = _ => 1 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Cap on optimizer steps (default 0: as many as --epochs need)" };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (default 2e-5 full, 2e-4 LoRA)" };
        var batch = new Option<int>("--batch-size") { Description = "Examples per optimizer step (default 8)", DefaultValueFactory = _ => 8 };
        var micro = new Option<int>("--micro-batch-size") { Description = "Examples per forward pass (default 1: gradient accumulation up to --batch-size)", DefaultValueFactory = _ => 1 };
        var maxLength = new Option<int>("--max-length") { Description = "Longer examples are cut at this many tokens (default 2048)", DefaultValueFactory = _ => 2048 };
        var warmup = new Option<int>("--warmup-steps") { Description = "Linear warmup steps (default 0)" };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute layers in the backward pass: less memory, one more forward" };
        var dtype = new Option<string>("--dtype") { Description = "float32 (default), bfloat16 or float16", DefaultValueFactory = _ => "float32" };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<long>("--seed") { Description = "Data order seed (default 0)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for torch (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("sft", """
            Supervised fine-tuning on assistant answers (loss on the last assistant turn of each row).
            Examples:
              spar train sft --model Llama-3.2-1B-Instruct --data d_actor.jsonl --out m0 --lora-rank 16 --merge
              spar train sft --model m0 --data refiner_sft.json --out r0 --epochs 3 --lr 1e-5 --dtype bfloat16
            Data rows: {"messages": [...]}, {"prompt": .., "completion": ..}, {"conversations": [{"from","value"}]},
            {"instruction", "input", "output"} (what `spar export --style trl|llama-factory` writes).
            """)
        {
            model, data, output, loraRank, loraAlpha, loraDropout, loraTargets, merge, epochs, maxSteps, lr, batch, micro,
            maxLength, warmup, checkpointing, dtype, device, seed, threads, format,
        };
        command.SetAction((parse, ct) =>
        {
            var modelDir = parse.GetValue(model)?.FullName ?? throw new UserInputException("give --model DIR.");
            var dataFile = parse.GetValue(data)?.FullName ?? throw new UserInputException("give --data FILE.");
            var outDir = parse.GetValue(output)?.FullName ?? throw new UserInputException("give --out DIR.");
            if (!Directory.Exists(modelDir))
            {
                throw new UserInputException($"--model: no directory {modelDir}.");
            }
            if (Path.TrimEndingDirectorySeparator(outDir) == Path.TrimEndingDirectorySeparator(modelDir))
            {
                throw new UserInputException("--out must differ from --model: training in place would overwrite the start.");
            }
            var rank = parse.GetValue(loraRank);
            if (rank < 0)
            {
                throw new UserInputException($"--lora-rank must be at least 0 (got {rank}).");
            }
            if (parse.GetValue(merge) && rank == 0)
            {
                throw new UserInputException("--merge needs --lora-rank: a full fine-tune is already a whole model.");
            }
            var lora = rank == 0 ? null : new LoraOptions(rank, parse.GetValue(loraAlpha) is var a && a > 0 ? a : 2.0 * rank, parse.GetValue(loraDropout))
            {
                TargetModules = LoraOptions.ParseTargets([parse.GetValue(loraTargets)!]),
            };
            var rate = parse.GetValue(lr) is var r && r > 0 ? r : lora is null ? 2e-5 : 2e-4;
            var options = new SftOptions
            {
                LearningRate = rate,
                Epochs = parse.GetValue(epochs),
                MaxSteps = parse.GetValue(maxSteps),
                BatchSize = parse.GetValue(batch),
                MicroBatchSize = Math.Min(parse.GetValue(micro), parse.GetValue(batch)),
                MaxSequenceLength = parse.GetValue(maxLength),
                WarmupSteps = parse.GetValue(warmup),
                GradientCheckpointing = parse.GetValue(checkpointing),
                Seed = parse.GetValue(seed),
                Lora = lora,
            }.Validated();
            var type = ModelCheckpoint.ParseDtype(parse.GetValue(dtype)!);
            // The data is read and checked before the model is loaded: a bad row costs no load time.
            var examples = SftDataFile.Read(dataFile);
            var threadCount = parse.GetValue(threads);
            new ProblemList().Threads("--threads", threadCount).Device("--device", parse.GetValue(device)!).ThrowIfAny();
            TorchRuntime.Configure(threadCount, options.Seed);
            using var lm = ModelCheckpoint.Load(modelDir, parse.GetValue(device)!, dtype: type);
            var sequences = examples.Select(e => TrainingSequence.FromChat(lm.Template, e.Take(e.Count - 1).ToList(), e[^1].Content)).ToList();
            var total = options.TotalSteps(sequences.Count);
            stderr.WriteLine($"sft: {examples.Count} examples, {total} steps of {options.BatchSize}, " +
                (lora is null ? "every weight" : $"LoRA r={lora.Rank} alpha={lora.Alpha} on {string.Join(",", lora.TargetModules)}") +
                $", {ModelCheckpoint.DtypeName(type)}");
            var every = Math.Max(1, total / 20);
            TrainingSummary summary = null!;
            // Nothing appears at --out until training and saving have both finished.
            AtomicDirectory.Write(outDir, temp =>
            {
                using var trainer = new SftTrainer(lm, options with { MetricsPath = Path.Combine(temp, "trainer_log.jsonl") });
                summary = trainer.Train(sequences, new LineProgress(p =>
                {
                    if (p.Step % every == 0 || p.Step == p.TotalSteps)
                    {
                        stderr.WriteLine($"step {p.Step}/{p.TotalSteps}  loss {p.Metrics["loss"]:F4}  lr {p.Metrics["learning_rate"]:G3}");
                    }
                }), ct);
                if (lora is null || parse.GetValue(merge))
                {
                    if (lora is not null)
                    {
                        LoraAdapters.Merge(lm.Network);
                    }
                    ModelCheckpoint.Save(lm, temp);
                }
                else
                {
                    LoraAdapters.Save(lm.Network, temp, modelDir);
                }
            });
            var result = new
            {
                output = outDir,
                examples = examples.Count,
                steps = summary.Steps,
                final_loss = summary.LastMetrics.GetValueOrDefault("loss"),
                tokens = summary.TokensSeen,
                seconds = Math.Round(summary.Elapsed.TotalSeconds, 1),
                lora = lora is not null,
                merged = lora is not null && parse.GetValue(merge),
            };
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, result);
            }
            else
            {
                stdout.WriteLine($"{outDir}: {summary.Steps} steps, final loss {result.final_loss:F4}, {result.seconds} s");
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private sealed class LineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
