using System.CommandLine;
using System.Globalization;
using SparOrleans.Client.Cli;
using SparOrleans.Engine.Benchmarks;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar bench engine</c>: the model engine's training, decoding and continuous-batching figures;
/// <c>spar bench checkpoint</c>: a Llama-3.2-1B-sized model saved, loaded, generated from and DPO-trained with LoRA.
/// </summary>
public static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var bench = new Command("bench", "Measure performance.");
        var quick = new Option<bool>("--quick") { Description = "Tiny sizes: a smoke test in seconds, not real figures" };
        var threads = new Option<int>("--threads")
        {
            Description = "Torch threads (default: all cores)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var engine = new Command("engine",
            "Training tokens/s and FLOP rate vs torch.mm (d=256, 4 layers), KV-cache decoding at batch 1/8/32/64/256 as a "
            + "fraction of the FLOP ceiling, one decode step's profile, a judging workload with and without prefix sharing, "
            + "and 64 concurrent callers vs one static batch.")
        {
            quick, threads, device, format,
        };
        engine.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            var options = new EngineBenchmarkOptions { Quick = pr.GetValue(quick), Threads = pr.GetValue(threads), Device = pr.GetValue(device)! };
            var result = await EngineBenchmark.RunAsync(options, line => stderr.WriteLine(line), ct);
            if (pr.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, result);
            }
            else
            {
                WriteText(stdout, result);
            }
            return ExitCodes.Success;
        });
        bench.Subcommands.Add(engine);
        bench.Subcommands.Add(CreateCheckpoint(stdout, stderr, threads));
        bench.Subcommands.Add(BenchSearchCommand.Create(stdout, stderr));
        return bench;
    }

    private static Command CreateCheckpoint(TextWriter stdout, TextWriter stderr, Option<int> threads)
    {
        var quick = new Option<bool>("--quick") { Description = "A tiny model of the same shape: a smoke test in seconds, not real figures" };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Directory with a Llama-3 tokenizer.json and tokenizer_config.json (default: "
                + CheckpointBenchmarkOptions.DefaultTokenizerDirectory + ", from `cd infra && npm ci`)",
        };
        var keep = new Option<string?>("--keep") { Description = "Save the model here and keep it (default: a temp directory, deleted)" };
        var microBatch = new Option<int>("--micro-batch")
        {
            Description = "DPO pairs per forward/backward (default 1; the step still covers all 4 pairs)",
            DefaultValueFactory = _ => 1,
        };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("checkpoint",
            "Llama-3.2-1B's exact config with random weights over a real Llama-3 tokenizer: build, save as an HF directory "
            + "in bf16, load in bf16, generate 16 tokens greedily, one LoRA DPO step (r16, all-linear, gradient checkpointing) "
            + "on 4 pairs of 256 tokens; seconds and peak RSS per phase against the memory accounting.")
        {
            quick, tokenizer, keep, microBatch, threads, format,
        };
        command.SetAction((ParseResult pr, CancellationToken ct) =>
        {
            if (pr.GetValue(keep) is { } kept)
            {
                OutputPaths.EnsureWritable(kept, "--keep");
            }
            var options = new CheckpointBenchmarkOptions
            {
                Quick = pr.GetValue(quick),
                TokenizerDirectory = pr.GetValue(tokenizer),
                KeepDirectory = pr.GetValue(keep),
                Threads = pr.GetValue(threads),
                MicroBatchPairs = pr.GetValue(microBatch),
            };
            var json = pr.GetValue(format) == OutputFormat.Json;
            // TorchSharp prints a warning with Console.WriteLine when gradient checkpointing saves its RNG state; on
            // stdout it would break the one JSON object, so the console goes to stderr while the bench runs.
            var console = Console.Out;
            CheckpointBenchmarkResult result;
            try
            {
                if (json)
                {
                    Console.SetOut(Console.Error);
                }
                result = CheckpointBenchmark.Run(options, line => stderr.WriteLine(line), ct);
            }
            finally
            {
                Console.SetOut(console);
            }
            if (json)
            {
                CliOutput.WriteJson(stdout, result);
            }
            else
            {
                WriteText(stdout, result);
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static void WriteText(TextWriter stdout, CheckpointBenchmarkResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var a = r.Accounting;
        static string G(long bytes) => CheckpointBenchmark.Gib(bytes);
        string Phase(string name, PhaseFigures p, string extra = "") =>
            string.Create(c, $"{name,-14} {p.Seconds,8:F1} s   peak RSS {G(p.PeakRssBytes),10}   RSS after {G(p.RssAfterBytes),10}{extra}");
        stdout.WriteLine(string.Create(c, $"model {r.Model}: vocab {r.VocabSize}, d={r.HiddenSize}, {r.Layers} layers, {r.Threads} threads; tokenizer {r.Tokenizer}"));
        stdout.WriteLine(Phase("build", r.Build, " (fp32 init, then bf16)"));
        stdout.WriteLine(Phase("save bf16", r.Save, string.Create(c, $"   {r.BytesOnDisk:N0} bytes on disk; weights file {r.WeightsFileBytes:N0} = 2 x {a.ParametersCounted:N0} + {r.WeightsHeaderOverheadBytes:N0} header")));
        stdout.WriteLine(Phase("load bf16", r.Load));
        stdout.WriteLine(Phase("generate", r.Generate, string.Create(c, $"   {r.GeneratedTokens} tokens after a {r.PromptTokens}-token prompt, {r.TokensPerS:F2} tokens/s")));
        stdout.WriteLine(Phase("DPO reference", r.DpoReference, string.Create(c, $"   {r.DpoPairs} pairs x {r.DpoPairTokens} tokens, {r.DpoMicroBatchPairs} per forward, adapters off")));
        stdout.WriteLine(Phase("DPO step", r.DpoStep, string.Create(c, $"   {r.DpoSteps} step, loss {r.DpoLoss:F4} (peak shared with the reference pass)")));
        stdout.WriteLine(string.Create(c, $"overall        {r.Seconds,8:F1} s   peak RSS {G(r.PeakRssBytes),10}   load average {r.LoadAverageStart} at start, {r.LoadAverageEnd} at end"));
        stdout.WriteLine(string.Create(c, $"accounting: {a.Parameters:N0} parameters (counted {a.ParametersCounted:N0}), base bf16 {G(a.BaseBytes)}; "
            + $"LoRA {a.AdapterParameters:N0} adapter parameters (counted {a.AdapterParametersCounted:N0}), fp32 {G(a.AdapterBytes)}; "
            + $"AdamW state {G(a.OptimizerStateBytes)}; gradients {G(a.GradientBytes)}; activations (estimate) {G(a.ActivationBytes)}"));
        stdout.WriteLine(string.Create(c, $"measured vs accounting: DPO peak RSS {G(r.DpoStep.PeakRssBytes)} vs {G(a.TrainingTotalBytes)} accounted for {r.DpoMicroBatchPairs} pair(s) in flight "
            + $"({G(r.DpoStep.PeakRssBytes - a.TrainingTotalBytes)} runtime/allocator beyond it); build peak {G(r.Build.PeakRssBytes)} vs fp32 init {G(a.Fp32BuildBytes)} + bf16 copy {G(a.BaseBytes)}"));
        if (r.KeptDirectory is { } kept)
        {
            stdout.WriteLine($"model kept in {kept}");
        }
    }

    private static void WriteText(TextWriter stdout, EngineBenchmarkResult r)
    {
        var c = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(c, $"model d={r.HiddenSize}, {r.Layers} layers, {r.Threads} threads on {r.Device}"));
        stdout.WriteLine(string.Create(c, $"torch.mm fp32            {r.MmGflops,10:F1} GFLOP/s"));
        stdout.WriteLine(string.Create(c, $"training                 {r.TrainTokensPerS,10:F0} tokens/s  {r.TrainGflops:F1} GFLOP/s  fraction of mm {r.TrainFractionOfMm:F2} (target >= 0.60)"));
        foreach (var (batch, tps) in r.DecodeTokensPerS)
        {
            var cpu = r.DecodeFractionOfCeilingCpu?.GetValueOrDefault(batch);
            stdout.WriteLine(string.Create(c, $"decode batch {batch,-3}         {tps,10:F0} tokens/s  fraction of FLOP ceiling {r.DecodeFractionOfCeiling[batch]:F3} (per CPU second {cpu:F3})"));
        }
        stdout.WriteLine(string.Create(c, $"decode batch32 / batch1  {r.DecodeBatch32OverBatch1,10:F2}x (target >= 8); ceiling from torch.mm {r.DecodeMmGflops:F1} GFLOP/s beside each round"));
        foreach (var w in r.WorkerDecode ?? [])
        {
            stdout.WriteLine(string.Create(c, $"decode batch {w.Batch,-3} served {w.WorkersTokensPerS,10:F0} tokens/s  fraction of FLOP ceiling {w.WorkersFractionOfCeiling:F3} with {w.Workers} workers x 1 thread (~{w.PromptTokens:F0}-token prompts); {w.Speedup:F2}x one worker on {w.Workers} threads ({w.OneWorkerTokensPerS:F0} tokens/s, {w.OneWorkerFractionOfCeiling:F3}); attention kernel {w.KernelSpeedup:F2}x SDPA on the workers ({w.WorkersSdpaTokensPerS:F0} tokens/s)"));
        }
        foreach (var p in new[] { r.StepProfileBatch1, r.StepProfile }.OfType<DecodeStepProfile>())
        {
            stdout.WriteLine(string.Create(c, $"decode step, batch {p.Batch,-3}  {p.StepMs,10:F2} ms  forward {p.ForwardMs:F2} ms, its matmuls alone {p.MatmulMs:F2} ms, attention alone {p.AttentionMs:F2} ms by SDPA, {p.KernelAttentionMs:F2} ms by the CPU kernel ({p.CacheColumns} cached columns)"));
        }
        var j = r.Judging;
        stdout.WriteLine(string.Create(c, $"judging {j.Responses}x{j.Votes} votes     {j.Speedup,10:F2}x faster with prefix sharing ({j.UnsharedSeconds:F2} s -> {j.SharedSeconds:F2} s; per CPU second {j.CpuSpeedup:F2}x; ~{j.PromptTokens}-token prompts, {j.NewTokens} new tokens; hit rate {j.HitRate:F2}; target >= 2)"));
        if (j.Workers > 1)
        {
            stdout.WriteLine(string.Create(c, $"judging, {j.Workers} workers     {j.WorkersSpeedup,10:F2}x faster with sharing on {j.Workers} workers x 1 thread than one worker without ({j.UnsharedSeconds:F2} s -> {j.WorkersSharedSeconds:F2} s)"));
        }
        stdout.WriteLine(string.Create(c, $"load average             {r.LoadAverageStart} at start, {r.LoadAverageEnd} at end ({Environment.ProcessorCount} cores)"));
        stdout.WriteLine(string.Create(c, $"continuous / static      {r.ContinuousOverStatic,10:F2} ({r.ContinuousTokensPerS:F0} vs {r.StaticTokensPerS:F0} tokens/s; target >= 0.85)"));
    }
}
