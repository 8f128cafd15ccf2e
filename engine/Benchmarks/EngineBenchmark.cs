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
    IReadOnlyDictionary<string, double> DecodeFractionOfCeiling,
    double DecodeMmGflops,
    double DecodeBatch32OverBatch1,
    DecodeStepProfile StepProfile,
    JudgingWorkload Judging,
    DecodeStepProfile? StepProfileBatch1,
    IReadOnlyDictionary<string, double>? DecodeFractionOfCeilingCpu,
    double StaticTokensPerS,
    double ContinuousTokensPerS,
    double ContinuousOverStatic,
    double Seconds,
    double? LoadAverageStart,
    double? LoadAverageEnd,
    IReadOnlyList<WorkerDecode>? WorkerDecode = null);

/// <summary>
/// Decoding <see cref="Batch"/> rows (prompts of <see cref="PromptTokens"/> tokens on average) through the generation
/// service: one worker on every torch thread against <see cref="Workers"/> workers on one thread each, the rows shared
/// out among them, and those workers again with SDPA instead of the CPU attention kernel (medians of interleaved
/// rounds; <see cref="WorkersFractionOfCeiling"/> against torch.mm timed beside each round, on every thread).
/// </summary>
public sealed record WorkerDecode(int Batch, int Workers, double OneWorkerTokensPerS, double WorkersTokensPerS, double WorkersFractionOfCeiling,
    double OneWorkerFractionOfCeiling, double PromptTokens = 0, double WorkersSdpaTokensPerS = 0)
{
    public double Speedup => WorkersTokensPerS / OneWorkerTokensPerS;

    /// <summary>The workers with the CPU attention kernel over the same workers with SDPA.</summary>
    public double KernelSpeedup => WorkersSdpaTokensPerS > 0 ? WorkersTokensPerS / WorkersSdpaTokensPerS : 0;
}

/// <summary>
/// Where one decoding step's time goes at a batch size, milliseconds per step (medians): the whole step
/// (<see cref="BatchDecoder.Step"/>), the network's forward alone, the same matmuls alone (every projection and
/// the head, at the step's shapes and in the engine's weight layouts) and attention alone (one scaled_dot_product_attention per layer over a cache of
/// the step's shape, with the step's padding mask; <see cref="KernelAttentionMs"/> the same by <see cref="DecodeAttention"/>, which the
/// step runs on a CPU). Step minus forward is sampling, the host sync and bookkeeping;
/// forward minus matmuls and attention is every other native call (norms, rotary, cache writes) and their overhead.
/// </summary>
public sealed record DecodeStepProfile(int Batch, long CacheColumns, double StepMs, double ForwardMs, double MatmulMs, double AttentionMs = 0,
    double KernelAttentionMs = 0);

/// <summary>
/// Judging's shape: <see cref="Votes"/> votes (different seeds) on each of <see cref="Responses"/> prompts of about
/// <see cref="PromptTokens"/> tokens, <see cref="NewTokens"/> new tokens each, through a generation service, with and
/// without prefix sharing (medians of interleaved rounds; <see cref="Speedup"/> the median of per-round ratios);
/// <see cref="HitRate"/> is the service's own figure; <see cref="CpuSpeedup"/> the same ratio in process CPU seconds.
/// With several threads also with sharing on <see cref="Workers"/> workers of one thread each:
/// <see cref="WorkersSpeedup"/> is one worker without sharing over that (the engine's default against neither).
/// </summary>
public sealed record JudgingWorkload(int Responses, int Votes, int PromptTokens, int NewTokens, double SharedSeconds,
    double UnsharedSeconds, double Speedup, double HitRate, double CpuSpeedup = 0, int Workers = 1, double WorkersSharedSeconds = 0,
    double WorkersSpeedup = 0);

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
        var fractions = new Dictionary<string, double>();
        var fractionsCpu = new Dictionary<string, double>();
        var decodeMm = new List<double>();
        foreach (var b in quick ? new[] { 1, 8, 32, 64 } : new[] { 1, 8, 32, 64, 256 })
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = b.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (tps, ofCeiling, mmRate, ofCeilingCpu) = MeasureDecode(model, b, newTokens, matmulParams, quick ? 256 : 1024, options.Device);
            (decode[key], fractions[key], fractionsCpu[key]) = (tps, ofCeiling, ofCeilingCpu);
            decodeMm.Add(mmRate);
            log?.Invoke($"decode batch {b}: {tps:F0} tokens/s = {ofCeiling:P1} of the FLOP ceiling (mm {mmRate:F1} GFLOP/s); per CPU second {ofCeilingCpu:P1}");
        }
        var workerDecode = new List<WorkerDecode>();
        if (options.Threads > 1 && !TorchRuntime.IsCuda(options.Device))
        {
            // The last: a run's shape, long prompts of different lengths (left padding) and short answers.
            foreach (var (b, longPrompts) in quick ? new[] { (8, false) } : [(64, false), (256, false), (64, true)])
            {
                var w = await MeasureWorkers(model, b, longPrompts, options.Threads, longPrompts ? newTokens / 4 : newTokens, quick ? 256 : 1024, options.Device, cancellationToken);
                workerDecode.Add(w);
                log?.Invoke($"decode batch {b} through the service (~{w.PromptTokens:F0}-token prompts): {w.Workers} workers x 1 thread {w.WorkersTokensPerS:F0} tokens/s = {w.WorkersFractionOfCeiling:P1} of the ceiling, 1 worker x {options.Threads} threads {w.OneWorkerTokensPerS:F0} ({w.Speedup:F2}x); the workers with SDPA {w.WorkersSdpaTokensPerS:F0} (kernel {w.KernelSpeedup:F2}x)");
            }
        }
        var profile = ProfileStep(model, quick ? 8 : 64, quick ? 8 : 32);
        var profile1 = ProfileStep(model, 1, quick ? 8 : 64);
        foreach (var p in new[] { profile1, profile })
        {
            log?.Invoke($"decode step at batch {p.Batch} ({p.CacheColumns} columns): {p.StepMs:F2} ms, forward {p.ForwardMs:F2} ms, its matmuls alone {p.MatmulMs:F2} ms, attention alone {p.AttentionMs:F2} ms by SDPA, {p.KernelAttentionMs:F2} ms by the CPU kernel");
        }
        var judging = await MeasureJudging(model, quick, options.Threads, cancellationToken);
        log?.Invoke($"judging {judging.Responses} x {judging.Votes} votes: {judging.UnsharedSeconds:F2} s without prefix sharing, {judging.SharedSeconds:F2} s with ({judging.Speedup:F2}x, per CPU second {judging.CpuSpeedup:F2}x, hit rate {judging.HitRate:P0}); with {judging.Workers} workers {judging.WorkersSharedSeconds:F2} s ({judging.WorkersSpeedup:F2}x)");

        var (staticTps, continuousTps) = await MeasureContinuous(model, newTokens, options.Threads, cancellationToken);
        log?.Invoke($"64 requests: static batch {staticTps:F0} tokens/s, 64 concurrent callers {continuousTps:F0} tokens/s");

        return new EngineBenchmarkResult(options.Device, options.Threads, d, layers, matmulParams, mm, trainTps, trainGflops,
            fraction, decode, fractions, Median(decodeMm), decode["32"] / decode["1"], profile, judging, profile1, fractionsCpu, staticTps, continuousTps, continuousTps / staticTps,
            clock.Elapsed.TotalSeconds, loadStart, LoadAverage(), workerDecode);
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

    private static double MeasureMm(int n, string device, int repeats) => MeasureMmBoth(n, device, repeats).Wall;

    // torch.mm's rate per wall second and per second of this process's CPU time. On a CPU shared with other work the
    // CPU-time rate is the steadier one: time spent descheduled counts on neither side of a CPU-time ratio.
    private static (double Wall, double Cpu) MeasureMmBoth(int n, string device, int repeats)
    {
        using var scope = NewDisposeScope();
        var dev = TorchRuntime.ResolveDevice(device);
        var a = randn(n, n, device: dev);
        var b = randn(n, n, device: dev);
        mm(a, b).Dispose();
        var (times, cpuTimes) = (new List<double>(), new List<double>());
        for (var r = 0; r < repeats; r++)
        {
            var cpu = CpuSeconds();
            var sw = Stopwatch.StartNew();
            using var c = mm(a, b);
            Synchronize(dev);
            times.Add(sw.Elapsed.TotalSeconds);
            cpuTimes.Add(CpuSeconds() - cpu);
        }
        // Medians on both sides of the ratio: on a shared machine a best-of would flatter mm against training.
        var flop = 2.0 * n * n * n;
        return (flop / Median(times) / 1e9, flop / Median(cpuTimes) / 1e9);
    }

    private static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

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

    // Short prompts of nearly one length, or long ones of 100-300 filler tokens (a judge prompt's length and spread).
    private static List<GenerationRequest> Requests(int count, int newTokens, bool varied, bool longPrompts = false)
    {
        var rng = new Random(count);
        return Enumerable.Range(0, count).Select(i => GenerationRequest.FromUser($"Write a sentence about animal {rng.Next(1000)} {new string('x', longPrompts ? rng.Next(100, 300) : rng.Next(1, 24))}") with
        {
            Seed = i,
            MaxNewTokens = varied ? newTokens / 2 + rng.Next(newTokens / 2 + 1) : newTokens,
            StopAtEndOfTurn = false,
        }).ToList();
    }

    // Tokens/s against the FLOP ceiling: torch.mm's rate timed beside each round (see DecodeFlopsPerToken).
    private static (double TokensPerS, double FractionOfCeiling, double MmGflops, double FractionOfCeilingCpu) MeasureDecode(LanguageModel model, int batch, int newTokens,
        long matmulParams, int mmSize, string device)
    {
        BatchGenerator.Generate(model, Requests(batch, 4, varied: false), maxBatchSize: batch);
        var requests = Requests(batch, newTokens, varied: false);
        var flopsPerToken = DecodeFlopsPerToken(model, requests, newTokens);
        var rates = new List<double>();
        var ratios = new List<double>();
        var mmRates = new List<double>();
        var cpuRatios = new List<double>();
        // A batch-1 round is a tenth of a second, where a scheduler hiccup shows: more of them for a steadier median.
        var rounds = batch >= 64 ? 2 : batch >= 8 ? 3 : 9;
        for (var round = 0; round < rounds; round++)
        {
            var (mm, mmCpu) = MeasureMmBoth(mmSize, device, 3);
            var cpu = CpuSeconds();
            var sw = Stopwatch.StartNew();
            var results = BatchGenerator.Generate(model, requests, maxBatchSize: batch);
            var tokens = results.Sum(r => r.TokenIds.Count);
            var tps = tokens / sw.Elapsed.TotalSeconds;
            rates.Add(tps);
            mmRates.Add(mm);
            ratios.Add(tps * flopsPerToken / 1e9 / mm);
            cpuRatios.Add(tokens / (CpuSeconds() - cpu) * flopsPerToken / 1e9 / mmCpu);
        }
        return (Median(rates), Median(ratios), Median(mmRates), Median(cpuRatios));
    }

    // The same rows through a service with one worker on every thread, with a worker per thread, and with a worker per
    // thread on SDPA, in turn.
    private static async Task<WorkerDecode> MeasureWorkers(LanguageModel model, int batch, bool longPrompts, int workers, int newTokens,
        int mmSize, string device, CancellationToken ct)
    {
        var requests = Requests(batch, newTokens, varied: false, longPrompts);
        var flopsPerToken = DecodeFlopsPerToken(model, requests, newTokens);
        var variants = new[] { (1, true), (workers, true), (workers, false) };
        // Restored after each variant: SPAR_DECODE_ATTENTION=sdpa stays in force for the rest of the bench.
        var setting = DecodeAttention.Enabled;
        var (rates, ratios) = (variants.Select(_ => new List<double>()).ToArray(), variants.Select(_ => new List<double>()).ToArray());
        for (var round = -1; round < 2; round++)
        {
            for (var i = 0; i < variants.Length; i++)
            {
                var (w, kernel) = variants[i];
                var mm = MeasureMm(mmSize, device, 3);
                await using var service = new GenerationService(model, new GenerationServiceOptions
                {
                    Workers = w,
                    Threads = w == 1 ? workers : 1,
                    MaxBatchSize = (batch + w - 1) / w,
                    PrefixSharing = false,
                });
                DecodeAttention.Enabled = kernel;
                try
                {
                    var sw = Stopwatch.StartNew();
                    var results = await service.GenerateAllAsync(requests, ct);
                    var tps = results.Sum(r => r.TokenIds.Count) / sw.Elapsed.TotalSeconds;
                    if (round >= 0)
                    {
                        rates[i].Add(tps);
                        ratios[i].Add(tps * flopsPerToken / 1e9 / mm);
                    }
                }
                finally
                {
                    DecodeAttention.Enabled = setting;
                }
            }
        }
        var promptTokens = requests.Average(r => model.Template.Encode(r.Prompt).Tokens.Length);
        return new WorkerDecode(batch, workers, Median(rates[0]), Median(rates[1]), Median(ratios[1]), Median(ratios[0]), promptTokens, Median(rates[2]));
    }

    // Decode FLOPs per generated token: 2 per matmul weight plus 4·L·d per attended column (scores and values);
    // columns average the prompt plus half the new tokens.
    private static double DecodeFlopsPerToken(LanguageModel model, IReadOnlyList<GenerationRequest> requests, int newTokens)
    {
        var promptTokens = requests.Average(r => model.Template.Encode(r.Prompt).Tokens.Length);
        return 2.0 * MatmulParameters(model.Config) + 4.0 * model.Config.NumHiddenLayers * model.Config.HiddenSize * (promptTokens + newTokens / 2.0);
    }

    // Times `steps` decoding steps three ways at one batch size (see DecodeStepProfile), interleaved step by step.
    private static DecodeStepProfile ProfileStep(LanguageModel model, int batch, int steps)
    {
        // As the decoder's step runs (BatchDecoder.Step).
        using var inference = inference_mode();
        var rows = Requests(batch, steps * 4, varied: false).Select(r => BatchDecoder.Prepare(model, r)).ToList();
        using var decoder = new BatchDecoder(model, prefixSharing: false);
        decoder.Admit(rows);
        var c = model.Config;
        // Transposed: stored [in, out] as the fused q/k/v and gate/up buffers are (see SharedWeights).
        var shapes = new List<(long In, long Out, bool Transposed)>();
        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            shapes.Add((c.HiddenSize, (c.NumAttentionHeads + 2L * c.NumKeyValueHeads) * c.HeadDim, true));
            shapes.Add((c.NumAttentionHeads * c.HeadDim, c.HiddenSize, false));
            shapes.Add((c.HiddenSize, 2L * c.IntermediateSize, true));
            shapes.Add((c.IntermediateSize, c.HiddenSize, false));
        }
        shapes.Add((c.HiddenSize, c.VocabSize, false));
        using var scope = NewDisposeScope();
        var weights = shapes.Select(s => s.Transposed
            ? (randn(s.In, s.Out, device: model.Device) * 0.02).t()
            : randn(s.Out, s.In, device: model.Device) * 0.02).ToList();
        var inputs = shapes.Select(s => randn(batch, 1, s.In, device: model.Device)).ToList();
        var (stepMs, forwardMs, matmulMs, attentionMs, kernelMs) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var columns = decoder.CacheColumns;
        // Attention as a step sees it: one query per row over the cache (right aligned, left padded rows masked).
        var keys = randn(batch, c.NumKeyValueHeads, columns + steps, c.HeadDim, device: model.Device);
        var values = randn(batch, c.NumKeyValueHeads, columns + steps, c.HeadDim, device: model.Device);
        var queries = randn(batch, c.NumAttentionHeads, 1, c.HeadDim, device: model.Device);
        var longest = rows.Max(r => r.Prompt.Length);
        var starts = rows.Select(r => (long)(longest - r.Prompt.Length)).ToArray();
        var pads = tensor(starts, [batch, 1], device: model.Device);
        var padded = rows.Any(r => r.Prompt.Length != longest);
        for (var s = 0; s < steps; s++)
        {
            var sw = Stopwatch.StartNew();
            decoder.Step();
            stepMs.Add(sw.Elapsed.TotalMilliseconds);
            forwardMs.Add(decoder.LastForwardMilliseconds);
            sw.Restart();
            for (var i = 0; i < shapes.Count; i++)
            {
                nn.functional.linear(inputs[i], weights[i]).Dispose();
            }
            matmulMs.Add(sw.Elapsed.TotalMilliseconds);
            using (var attentionScope = NewDisposeScope())
            {
                var width = columns + s + 1;
                var (k, v) = (keys.narrow(2, 0, width), values.narrow(2, 0, width));
                var mask = padded ? arange(width, ScalarType.Int64, model.Device).unsqueeze(0).ge(pads).view(batch, 1, 1, width) : null;
                sw.Restart();
                for (var l = 0; l < c.NumHiddenLayers; l++)
                {
                    nn.functional.scaled_dot_product_attention(queries, k, v, mask).Dispose();
                }
                attentionMs.Add(sw.Elapsed.TotalMilliseconds);
                if (DecodeAttention.Fits(queries, k, v))
                {
                    sw.Restart();
                    for (var l = 0; l < c.NumHiddenLayers; l++)
                    {
                        DecodeAttention.Attend(queries, k, v, padded ? starts : null).Dispose();
                    }
                    kernelMs.Add(sw.Elapsed.TotalMilliseconds);
                }
            }
        }
        return new DecodeStepProfile(batch, columns, Median(stepMs), Median(forwardMs), Median(matmulMs), Median(attentionMs),
            kernelMs.Count > 0 ? Median(kernelMs) : 0);
    }

    // Five votes on each of 64 responses (~120-token prompts, short verdicts) through a fresh service per round, so
    // no round finds another's prompts cached; rounds alternate with and without sharing.
    private static async Task<JudgingWorkload> MeasureJudging(LanguageModel model, bool quick, int threads, CancellationToken ct)
    {
        var (responses, votes, newTokens, rounds) = quick ? (8, 5, 4, 1) : (64, 5, 16, 5);
        var rng = new Random(5);
        const string Letters = "abcdefghijklmnopqrstuvwxyz ";
        var prompts = Enumerable.Range(0, responses).Select(i =>
            $"Does the response follow the instruction? Answer yes or no.\nResponse {i}: "
            + new string(Enumerable.Range(0, 40).Select(_ => Letters[rng.Next(Letters.Length)]).ToArray())).ToList();
        var requests = prompts.SelectMany((p, i) => Enumerable.Range(0, votes).Select(v => GenerationRequest.FromUser(p) with
        {
            Seed = i * votes + v,
            MaxNewTokens = newTokens,
            StopAtEndOfTurn = false,
        })).ToList();
        var promptTokens = (int)Math.Round(prompts.Average(p => model.Template.Encode(GenerationRequest.FromUser(p).Prompt).Tokens.Length));
        var (shared, unshared, ratios) = (new List<double>(), new List<double>(), new List<double>());
        var (sharedCpu, unsharedCpu, cpuRatios) = (new List<double>(), new List<double>(), new List<double>());
        var (withWorkers, workerRatios) = (new List<double>(), new List<double>());
        double hitRate = 0;
        // A worker per thread (one thread each) after the two one-worker configurations, when there are threads to share.
        var configurations = threads > 1 ? new[] { (false, 1), (true, 1), (true, threads) } : [(false, 1), (true, 1)];
        for (var round = -1; round < rounds; round++)
        {
            foreach (var (sharing, workers) in configurations)
            {
                await using var service = new GenerationService(model, new GenerationServiceOptions
                {
                    MaxBatchSize = 64,
                    Workers = workers,
                    Threads = workers == 1 ? threads : 1,
                    PrefixSharing = sharing,
                });
                var cpu = CpuSeconds();
                var sw = Stopwatch.StartNew();
                // Each response's votes come as one call, as a prompt grain asks for them.
                await Task.WhenAll(requests.Chunk(votes).Select(call => service.GenerateAllAsync(call, ct)));
                var (seconds, cpuSeconds) = (sw.Elapsed.TotalSeconds, CpuSeconds() - cpu);
                if (round < 0)
                {
                    continue;
                }
                if (workers > 1)
                {
                    withWorkers.Add(seconds);
                    workerRatios.Add(unshared[^1] / seconds);
                    continue;
                }
                (sharing ? shared : unshared).Add(seconds);
                (sharing ? sharedCpu : unsharedCpu).Add(cpuSeconds);
                if (sharing)
                {
                    hitRate = service.PrefixSharing.HitRate;
                    ratios.Add(unshared[^1] / shared[^1]);
                    cpuRatios.Add(unsharedCpu[^1] / sharedCpu[^1]);
                }
            }
        }
        return new JudgingWorkload(responses, votes, promptTokens, newTokens, Median(shared), Median(unshared), Median(ratios), hitRate, Median(cpuRatios),
            threads > 1 ? threads : 1, withWorkers.Count > 0 ? Median(withWorkers) : 0, workerRatios.Count > 0 ? Median(workerRatios) : 0);
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
