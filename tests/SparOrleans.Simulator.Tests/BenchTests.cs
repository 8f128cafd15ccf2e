using System.Text.Json;

namespace SparOrleans.Simulator.Tests;

/// <summary>A fact that runs only when SPAR_BENCH names a configuration (default, quick): minutes of CPU, not for CI.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SPAR_BENCH")))
        {
            Skip = "set SPAR_BENCH=default|quick (and optionally SPAR_BENCH_OUT=dir) to measure the bootstrap";
        }
    }
}

public class BenchTests
{
    /// <summary>
    /// Measures the bootstrap and evaluation of M_0/R_0: <c>SPAR_BENCH=default dotnet test tests/SparOrleans.Simulator.Tests
    /// -c Release --filter Category=Bench</c>; the report is written as JSON to SPAR_BENCH_OUT/bench.json, progress to
    /// SPAR_BENCH_OUT/progress.log. SPAR_BENCH_REFINER_INIT=fresh measures a fresh R_0 instead of one from M_0;
    /// SPAR_BENCH_ACTOR=dir reuses an M_0 from an earlier bench.
    /// </summary>
    [BenchFact]
    [Trait("Category", "Bench")]
    public async Task Bench_Configured_WritesReport()
    {
        var name = Environment.GetEnvironmentVariable("SPAR_BENCH")!;
        var options = SimulatorOptions.Preset(name);
        if (Environment.GetEnvironmentVariable("SPAR_BENCH_REFINER_INIT") == "fresh")
        {
            options = options with { RefinerInit = RefinerInit.Fresh };
        }
        var outDir = Environment.GetEnvironmentVariable("SPAR_BENCH_OUT") ?? TestPaths.TempDir();
        Directory.CreateDirectory(outDir);
        var log = Path.Combine(outDir, "progress.log");
        var last = "";
        var progress = new SynchronousProgress<StepProgress>(p =>
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss} {p.Phase} {p.Done}/{p.Total} {p.Loss:G4}";
            if (p.Done == p.Total || p.Done % 10 == 0 || p.Phase != last)
            {
                lock (log)
                {
                    File.AppendAllText(log, line + "\n");
                }
            }
            last = p.Phase;
        });
        var report = await SimulatorBench.RunAsync(options, outDir, progress, default, Environment.GetEnvironmentVariable("SPAR_BENCH_ACTOR"));
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(outDir, "bench.json"), json);
        Assert.InRange(report.Evaluation.Actor.PromptStrict, 0, 1);
        Assert.True(Directory.Exists(report.Actor.ModelDir) && Directory.Exists(report.Refiner.ModelDir));
    }

    /// <summary>
    /// The actor's held-out score alone for an existing model: <c>SPAR_BENCH=default SPAR_BENCH_ACTOR=DIR
    /// dotnet test ... --filter Category=BenchActor</c>; writes SPAR_BENCH_OUT/actor-eval.json.
    /// </summary>
    [BenchFact]
    [Trait("Category", "BenchActor")]
    public async Task BenchActor_ExistingModel_WritesScore()
    {
        var options = SimulatorOptions.Preset(Environment.GetEnvironmentVariable("SPAR_BENCH")!);
        var actorDir = Environment.GetEnvironmentVariable("SPAR_BENCH_ACTOR") ?? throw new InvalidOperationException("set SPAR_BENCH_ACTOR");
        var outDir = Environment.GetEnvironmentVariable("SPAR_BENCH_OUT") ?? TestPaths.TempDir();
        await using var runner = SimulatorModels.Load(actorDir, options);
        var (score, answers) = await Evaluation.EvaluateActorAsync(runner, options);
        var prompts = Evaluation.HeldOutPrompts(options.HeldOutCount, options.HeldOutSeed);
        var samples = prompts.Take(5).Select((p, i) => new { prompt = p.Text, answer = answers[i], follows = p.Follows(answers[i]) });
        File.WriteAllText(Path.Combine(outDir, "actor-eval.json"),
            JsonSerializer.Serialize(new { score, samples }, new JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal(options.HeldOutCount, score.Prompts);
    }

    /// <summary>
    /// An existing refiner judged on a frozen set (greedy and voting, with the operating point):
    /// <c>SPAR_BENCH=default SPAR_BENCH_ACTOR=M0 SPAR_BENCH_REFINER=R dotnet test ... --filter Category=BenchJudge</c>.
    /// The refiner is copied to SPAR_BENCH_OUT/refiner; its frozen set is SPAR_BENCH_FROZEN (a judge_eval.json) when
    /// given, else the one it carries, else one sampled from M_0 as the bootstrap samples it. Writes judge-eval.json.
    /// </summary>
    [BenchFact]
    [Trait("Category", "BenchJudge")]
    public async Task BenchJudge_ExistingRefiner_WritesOperatingPoint()
    {
        var options = SimulatorOptions.Preset(Environment.GetEnvironmentVariable("SPAR_BENCH")!);
        var actorDir = Environment.GetEnvironmentVariable("SPAR_BENCH_ACTOR") ?? throw new InvalidOperationException("set SPAR_BENCH_ACTOR");
        var sourceDir = Environment.GetEnvironmentVariable("SPAR_BENCH_REFINER") ?? throw new InvalidOperationException("set SPAR_BENCH_REFINER");
        var outDir = Environment.GetEnvironmentVariable("SPAR_BENCH_OUT") ?? TestPaths.TempDir();
        var refinerDir = Path.Combine(outDir, "refiner");
        Directory.CreateDirectory(refinerDir);
        foreach (var file in Directory.GetFiles(sourceDir))
        {
            File.Copy(file, Path.Combine(refinerDir, Path.GetFileName(file)), overwrite: true);
        }
        if (Environment.GetEnvironmentVariable("SPAR_BENCH_FROZEN") is { Length: > 0 } frozenFile)
        {
            File.Copy(frozenFile, Path.Combine(refinerDir, FrozenJudgeSet.FileName), overwrite: true);
        }
        else if (FrozenJudgeSet.Load(refinerDir) is null)
        {
            await using var actor = SimulatorModels.Load(actorDir, options);
            (await FrozenJudgeSet.SampleAsync(actor, options, Bootstrap.FrozenSetSeed(options))).Save(refinerDir);
        }
        var report = await Evaluation.EvaluateAsync(actorDir, refinerDir, options);
        File.WriteAllText(Path.Combine(outDir, "judge-eval.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Assert.NotNull(report.Judgment.FrozenGreedy);
    }
}
