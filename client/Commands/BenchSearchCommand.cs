using SparOrleans.Models.Generation;
using SparOrleans.Models.Search;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Search;
using SparOrleans.Engine.Model;
using SparOrleans.Grains.Training;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Silo.Hosting;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar bench search</c>: the same tree searches run twice on the same model with the same batching service,
/// once by a direct in-process loop and once through Orleans (tree-node grains, the GPU-pinned generation grain,
/// persisted node state), and the ratio of their throughputs. Same seeds, so the trees would be identical if a row's
/// numbers did not depend on its batch: they do (a prefill's padding width, the GEMM's shape), continuous batching
/// groups the two paths' requests by their timing, and a random model's near-uniform logits flip sampled tokens at
/// near-ties, so the count of identical trees is reported (the engine before #19 gave all 32 in 2 of 4 runs too).
/// </summary>
public static class BenchSearchCommand
{
    public sealed record Result(
        int Roots, long Generations, int Expansions, double DirectSeconds, double GrainSeconds,
        double DirectGenerationsPerS, double GrainGenerationsPerS, double GrainOverDirect, string Model, int Workers, int IdenticalTrees,
        int ComparedTrees)
    {
        public bool Identical => IdenticalTrees == ComparedTrees;
    }

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var roots = new Option<int>("--roots") { Description = "Trees to search (default 32)", DefaultValueFactory = _ => 32 };
        var refiner = new Option<DirectoryInfo?>("--refiner") { Description = "A refiner checkpoint (e.g. runs/<run>/models/refiner-0); default: a random d=64 model" };
        var workers = new Option<int?>("--generation-workers")
        {
            Description = "Decoding threads of each path's model host (default: the silos' default, one per core on a CPU)",
        };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("search", """
            Grain-driven tree search vs a direct in-process loop over the same model and batching (target: the grain
            path keeps >= 85% of the direct throughput).
            Example: spar bench search --refiner runs/run-1/models/refiner-0 --format json
            """)
        {
            roots, refiner, workers, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(roots);
            if (count is < 1 or > 10_000)
            {
                throw new UserInputException($"--roots must be between 1 and 10000 (got {count}).");
            }
            var workerCount = parse.GetValue(workers) is { } w ? RunCommands.Positive("--generation-workers", w, 1, 256) : (int?)null;
            if (parse.GetValue(refiner) is { } given)
            {
                // A corrupt checkpoint is refused before the scratch silo and the warm-up pass start.
                ModelCheckpoint.Inspect(given.FullName);
            }
            var result = await RunAsync(count, parse.GetValue(refiner)?.FullName, line => stderr.WriteLine(line), ct, workerCount);
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, result);
            }
            else
            {
                var c = CultureInfo.InvariantCulture;
                stdout.WriteLine(string.Create(c, $"{result.Roots} trees, {result.Expansions} expansions, {result.Generations} generations each way ({result.Model}, {result.Workers} decoding worker(s))"));
                stdout.WriteLine(string.Create(c, $"direct loop   {result.DirectSeconds,8:F2} s  {result.DirectGenerationsPerS,8:F1} generations/s"));
                stdout.WriteLine(string.Create(c, $"through grains{result.GrainSeconds,8:F2} s  {result.GrainGenerationsPerS,8:F1} generations/s"));
                stdout.WriteLine(string.Create(c, $"grain / direct {result.GrainOverDirect,7:F3} (target >= 0.85); identical trees: {result.IdenticalTrees} of {result.ComparedTrees}"));
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static async Task<Result> RunAsync(int count, string? refinerDirectory, Action<string> log, CancellationToken ct, int? workers = null)
    {
        var hostOptions = new ModelHostOptions { Workers = workers };
        var scratch = Path.Combine(Path.GetTempPath(), $"spar-bench-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            var modelDir = refinerDirectory ?? Path.Combine(scratch, "refiner");
            if (refinerDirectory is null)
            {
                using var model = LanguageModel.CreateByteLevel(hiddenSize: 64, layers: 2, heads: 2, seed: 5, version: "bench");
                ModelCheckpoint.Save(model, modelDir);
            }
            var context = new IterationContext(
                "bench", 1,
                new ModelRef(ModelRole.Actor, "bench-refiner", modelDir),
                new ModelRef(ModelRole.Refiner, "bench-refiner", modelDir),
                Seed: 7, FormatName: "compact", SamplesPerPrompt: 1, new SamplingOptions { RefineMaxTokens = 160, JudgeMaxTokens = 96 },
                VotingOptions.InitialJudging, SearchPolicyKind.Bfs, new TreeSearchOptions(), VotingOptions.TreeSearch);
            var starts = Roots(count).Select(root =>
                TreeSearch.Start(SearchPolicyKind.Bfs, root.Prompt, root.Response, root.Judgment, context.Search, context.TreeVoting)).ToList();
            // Seeds derive from the prompt key; each round uses its own keys (tree-node grains keep their outcome and
            // would answer a repeated key from storage), the same for both paths.
            static string Key(int round, int tree) => PromptKeys.Prompt($"bench{round}", 1, $"r{tree}");

            // Direct: the same ModelHost (continuous batching) the GPU silo uses, driven by a plain loop.
            long directGenerations = 0;
            await using var host = new ModelHost(hostOptions, new CheckpointSync(null), NullLogger<ModelHost>.Instance);
            GenerateTexts direct = async (role, calls, token) =>
            {
                Interlocked.Add(ref directGenerations, calls.Count);
                return (await host.GenerateAsync(context.Model(role), calls, token)).Select(g => g.Text).ToList();
            };
            Task<SearchState[]> Direct(int round) => Task.WhenAll(starts.Select((start, tree) => SearchRunner.RunAsync(
                start, new ModelRefinementEnvironment(RoleFormats.Compact, context.Sampling, direct, context.Seed, Key(round, tree)), cancellationToken: ct)));

            await using var silo = await EmbeddedSilo.StartAsync(Path.Combine(scratch, "state"), cancellationToken: ct, models: hostOptions);
            var grains = silo.Client;
            Task<SearchState[]> ThroughGrains(int round) => Task.WhenAll(starts.Select((start, tree) => SearchRunner.RunAsync(
                start,
                (snapshot, nodeId, _) => grains.GetGrain<ITreeNodeGrain>(PromptKeys.Node(Key(round, tree), nodeId)).ExpandAsync(context, snapshot, nodeId),
                cancellationToken: ct)));

            // libtorch builds kernels per new shape on first use (tens of seconds here): a full unmeasured pass
            // warms the process for both paths, which then alternate so neither gains from going second.
            var expansions = 0;
            log("warm-up pass ...");
            await Direct(0);
            await grains.GetGrain<IGenerationGrain>(0).GenerateAsync(context.Refiner, [new GenerationCall([new Turn("user", "warm-up")], 0, 1, 4, 0)], ct);
            directGenerations = 0;
            double directSeconds = 0, grainSeconds = 0;
            var (identicalTrees, comparedTrees) = (0, 0);
            for (var round = 1; round <= 2; round++)
            {
                log($"round {round}: through grains ...");
                var clock = Stopwatch.StartNew();
                var grainTrees = await ThroughGrains(round);
                grainSeconds += clock.Elapsed.TotalSeconds;
                log($"round {round}: direct loop ...");
                clock.Restart();
                var directTrees = await Direct(round);
                directSeconds += clock.Elapsed.TotalSeconds;
                identicalTrees += directTrees.Zip(grainTrees).Count(p => JsonSerializer.Serialize(p.First.Nodes) == JsonSerializer.Serialize(p.Second.Nodes));
                comparedTrees += directTrees.Length;
                expansions += directTrees.Sum(t => t.Expansions);
            }
            directGenerations /= 2;
            directSeconds /= 2;
            grainSeconds /= 2;

            return new Result(
                count, directGenerations, expansions / 2, directSeconds, grainSeconds,
                directGenerations / directSeconds, directGenerations / grainSeconds, directSeconds / grainSeconds,
                refinerDirectory ?? "random d=64 model", hostOptions.EffectiveWorkers, identicalTrees, comparedTrees);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Realistic roots: world prompts, a teacher-made near miss each, and the teacher's judgment of it.</summary>
    private static IEnumerable<(string Prompt, string Response, string Judgment)> Roots(int count)
    {
        var prompts = new PromptComposer().Sample(count * 2, 11, WorldSplit.Train);
        return prompts
            .Select((p, i) => (Prompt: p, Flawed: Teacher.Flawed(p, 1, i)))
            .Where(x => x.Flawed is not null)
            .Take(count)
            .Select(x => (x.Prompt.Text, x.Flawed!.Response, RoleFormats.Compact.RenderJudgment(Teacher.Judge(x.Prompt, x.Flawed.Response))));
    }
}
