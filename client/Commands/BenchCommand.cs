using System.CommandLine;
using System.Globalization;
using SparOrleans.Client.Cli;
using SparOrleans.Engine.Benchmarks;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar bench engine</c>: the model engine's training, decoding and continuous-batching figures.</summary>
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
            "Training tokens/s and FLOP rate vs torch.mm (d=256, 4 layers), KV-cache decoding at batch 1/8/32/64, "
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
        bench.Subcommands.Add(BenchSearchCommand.Create(stdout, stderr));
        return bench;
    }

    private static void WriteText(TextWriter stdout, EngineBenchmarkResult r)
    {
        var c = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(c, $"model d={r.HiddenSize}, {r.Layers} layers, {r.Threads} threads on {r.Device}"));
        stdout.WriteLine(string.Create(c, $"torch.mm fp32            {r.MmGflops,10:F1} GFLOP/s"));
        stdout.WriteLine(string.Create(c, $"training                 {r.TrainTokensPerS,10:F0} tokens/s  {r.TrainGflops:F1} GFLOP/s  fraction of mm {r.TrainFractionOfMm:F2} (target >= 0.60)"));
        foreach (var (batch, tps) in r.DecodeTokensPerS)
        {
            stdout.WriteLine(string.Create(c, $"decode batch {batch,-3}         {tps,10:F0} tokens/s"));
        }
        stdout.WriteLine(string.Create(c, $"decode batch32 / batch1  {r.DecodeBatch32OverBatch1,10:F2}x (target >= 8)"));
        stdout.WriteLine(string.Create(c, $"load average             {r.LoadAverageStart} at start, {r.LoadAverageEnd} at end ({Environment.ProcessorCount} cores)"));
        stdout.WriteLine(string.Create(c, $"continuous / static      {r.ContinuousOverStatic,10:F2} ({r.ContinuousTokensPerS:F0} vs {r.StaticTokensPerS:F0} tokens/s; target >= 0.85)"));
    }
}
