using System.Diagnostics;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Benchmarks;

/// <summary>
/// Sizes of <see cref="EngineBenchmark"/>. Defaults are the issue's: a d=256, 4-layer model trained at batch 32 ×
/// 256 tokens, decoding 128 new tokens. <see cref="Quick"/> shrinks everything for a smoke test.
/// </summary>
public sealed record EngineBenchmarkOptions : IValidatedOptions
{
    public bool Quick { get; init; }

    /// <summary>Torch threads (default: all cores).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public string Device { get; init; } = "cpu";

    public IEnumerable<string> Problems() => new ProblemList().Threads("threads", Threads).Device("device", Device);
}

/// <summary>Figures from one run; ratios compare measurements taken in that same run.</summary>
public sealed record EngineBenchmarkResult(
    string Device,
    int Threads,
    int HiddenSize,
    int Layers,
    long MatmulParameters,
    double MmGflops,
    double TrainTokensPerS,
    double TrainGflops,
    double TrainFractionOfMm,
    IReadOnlyDictionary<string, double> DecodeTokensPerS,
    double DecodeBatch32OverBatch1,
    double StaticTokensPerS,
    double ContinuousTokensPerS,
    double ContinuousOverStatic,
    double Seconds,
    double? LoadAverageStart,
    double? LoadAverageEnd);

/// <summary>Measures training FLOP rate against torch.mm, KV-cache decoding by batch size, and continuous batching.</summary>
public static class EngineBenchmark
{
    public static async Task<EngineBenchmarkResult> RunAsync(EngineBenchmarkOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var loadStart = LoadAverage();
        TorchRuntime.Configure(options.Threads, seed: 0);
        var quick = options.Quick;
        var (d, layers, seq, batch, trainSteps, newTokens) = quick ? (64, 2, 64, 8, 3, 16) : (256, 4, 256, 32, 9, 128);
        log?.Invoke($"engine benchmark: d={d}, {layers} layers, {options.Threads} threads, device {options.Device}");

        using var model = LanguageModel.CreateByteLevel(d, layers, 4, seed: 0, device: options.Device);
        var matmulParams = MatmulParameters(model.Config);
        var (trainTps, trainGflops, mm, fraction) = MeasureTraining(model, seq, batch, trainSteps, matmulParams, quick ? 256 : 1024, options.Device, cancellationToken);
        log?.Invoke($"torch.mm fp32: {mm:F1} GFLOP/s");
        log?.Invoke($"training: {trainTps:F0} tokens/s, {trainGflops:F1} GFLOP/s = {fraction:P0} of mm");

        var decode = new Dictionary<string, double>();
        foreach (var b in new[] { 1, 8, 32, 64 })
        {
            cancellationToken.ThrowIfCancellationRequested();
            decode[b.ToString(System.Globalization.CultureInfo.InvariantCulture)] = MeasureDecode(model, b, newTokens);
            log?.Invoke($"decode batch {b}: {decode[b.ToString(System.Globalization.CultureInfo.InvariantCulture)]:F0} tokens/s");
        }

        var (staticTps, continuousTps) = await MeasureContinuous(model, newTokens, options.Threads, cancellationToken);
        log?.Invoke($"64 requests: static batch {staticTps:F0} tokens/s, 64 concurrent callers {continuousTps:F0} tokens/s");

        return new EngineBenchmarkResult(options.Device, options.Threads, d, layers, matmulParams, mm, trainTps, trainGflops,
            fraction, decode, decode["32"] / decode["1"], staticTps, continuousTps, continuousTps / staticTps,
            clock.Elapsed.TotalSeconds, loadStart, LoadAverage());
    }

    /// <summary>The 1-minute load average (Linux), so a reader can tell whether other work shared the CPU.</summary>
    public static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Weights that multiply activations: every projection and the (tied) output head.</summary>
    public static long MatmulParameters(LlamaConfig c)
    {
        long d = c.HiddenSize, kv = c.NumKeyValueHeads * c.HeadDim;
        var perLayer = 2 * d * d + 2 * d * kv + 3 * d * c.IntermediateSize;
        return c.NumHiddenLayers * perLayer + d * c.VocabSize;
    }

    private static double MeasureMm(int n, string device, int repeats)
    {
        using var scope = NewDisposeScope();
        var dev = TorchRuntime.ResolveDevice(device);
        var a = randn(n, n, device: dev);
        var b = randn(n, n, device: dev);
        mm(a, b).Dispose();
        var times = new List<double>();
        for (var r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            using var c = mm(a, b);
            Synchronize(dev);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        // Medians on both sides of the ratio: on a shared machine a best-of would flatter mm against training.
        return 2.0 * n * n * n / Median(times) / 1e9;
    }

    private static void Synchronize(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            cuda.synchronize();
        }
    }

    // Training FLOPs per token: 6 per matmul weight (forward + backward) plus 12·L·d·T for attention scores and values.
    // torch.mm is timed right after every training step and the fraction is the median of per-step ratios, so a
    // shared machine's changing load hits both sides of each ratio alike.
    private static (double TokensPerS, double Gflops, double MmGflops, double Fraction) MeasureTraining(LanguageModel model, int seq, int batch, int steps,
        long matmulParams, int mmSize, string device, CancellationToken ct)
    {
        var rng = new Random(0);
        var data = Enumerable.Range(0, batch * (steps + 2)).Select(_ =>
        {
            var tokens = Enumerable.Range(0, seq).Select(_ => rng.Next(256)).ToArray();
            var weights = Enumerable.Repeat(1f, seq).ToArray();
            weights[0] = 0;
            return new TrainingSequence(tokens, weights, Enumerable.Repeat(true, seq).ToArray());
        }).ToList();
        using var clone = model.Clone();
        using var trainer = new SftTrainer(clone, new SftOptions { BatchSize = batch, MicroBatchSize = batch, MaxSequenceLength = seq, LearningRate = 1e-4 });
        trainer.Train(data, null, ct, stopAtStep: 2);
        var flopsPerToken = 6.0 * matmulParams + 12.0 * model.Config.NumHiddenLayers * model.Config.HiddenSize * seq;
        var tokensPerStep = (double)batch * seq;
        var stepTimes = new List<double>();
        var mmRates = new List<double>();
        var ratios = new List<double>();
        var clock = Stopwatch.StartNew();
        trainer.Train(data, new SyncProgress(_ =>
        {
            var seconds = clock.Elapsed.TotalSeconds;
            var mm = MeasureMm(mmSize, device, 3);
            stepTimes.Add(seconds);
            mmRates.Add(mm);
            ratios.Add(tokensPerStep * flopsPerToken / seconds / 1e9 / mm);
            clock.Restart();
        }), ct);
        var tps = tokensPerStep / Median(stepTimes);
        return (tps, tps * flopsPerToken / 1e9, Median(mmRates), Median(ratios));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    // Progress<T> posts to the thread pool; step timing needs the callback on the training thread.
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private static List<GenerationRequest> Requests(int count, int newTokens, bool varied)
    {
        var rng = new Random(count);
        return Enumerable.Range(0, count).Select(i => GenerationRequest.FromUser($"Write a sentence about animal {rng.Next(1000)} {new string('x', rng.Next(1, 24))}") with
        {
            Seed = i,
            MaxNewTokens = varied ? newTokens / 2 + rng.Next(newTokens / 2 + 1) : newTokens,
            StopAtEndOfTurn = false,
        }).ToList();
    }

    private static double MeasureDecode(LanguageModel model, int batch, int newTokens)
    {
        BatchGenerator.Generate(model, Requests(batch, 4, varied: false), maxBatchSize: batch);
        var requests = Requests(batch, newTokens, varied: false);
        var sw = Stopwatch.StartNew();
        var results = BatchGenerator.Generate(model, requests, maxBatchSize: batch);
        return results.Sum(r => r.TokenIds.Count) / sw.Elapsed.TotalSeconds;
    }

    // Alternates static and continuous rounds so that load changes on a shared machine hit both sides alike.
    private static async Task<(double Static, double Continuous)> MeasureContinuous(LanguageModel model, int newTokens, int threads, CancellationToken ct)
    {
        var requests = Requests(64, newTokens, varied: true);
        await using var service = new GenerationService(model, new GenerationServiceOptions { MaxBatchSize = 64, Threads = threads });
        await service.GenerateAsync(requests[0] with { MaxNewTokens = 2 }, ct);
        double staticTokens = 0, staticSeconds = 0, continuousTokens = 0, continuousSeconds = 0;
        for (var round = 0; round < 2; round++)
        {
            var sw = Stopwatch.StartNew();
            var staticResults = BatchGenerator.Generate(model, requests, maxBatchSize: 64, cancellationToken: ct);
            staticSeconds += sw.Elapsed.TotalSeconds;
            staticTokens += staticResults.Sum(r => r.TokenIds.Count);

            sw.Restart();
            var callers = new List<Task<GenerationResult>>();
            foreach (var request in requests)
            {
                // Callers arrive one at a time, each on its own task, as grains would.
                callers.Add(Task.Run(() => service.GenerateAsync(request, ct), ct));
                await Task.Yield();
            }
            var results = await Task.WhenAll(callers);
            continuousSeconds += sw.Elapsed.TotalSeconds;
            continuousTokens += results.Sum(r => r.TokenIds.Count);
        }
        return (staticTokens / staticSeconds, continuousTokens / continuousSeconds);
    }
}
