using System.Text.Json;
using SparOrleans.Integration.Tests.Placement;
using SparOrleans.Interfaces.Runs;
using Xunit.Abstractions;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// The random-kill figure of issue 6: each trial starts the tiny run on a fresh 1 gpu + 2 cpu cluster, crashes a
/// random cpu silo (or the client) at a random point (the n-th generation call, or the start of a random phase,
/// training included), brings a replacement silo up, follows the run to its end and compares its data sets with the
/// uninterrupted reference. One trial by default (CI); <c>SPAR_FAULT_TRIALS=10</c> for the figure, and
/// <c>SPAR_FAULT_REPORT=path.json</c> to keep the per-trial results.
/// </summary>
public sealed class FaultTrials(FaultFixture fixture, ITestOutputHelper output) : IClassFixture<FaultFixture>
{
    private static readonly RunPhase[] KillablePhases =
    [
        RunPhase.BootstrapActor, RunPhase.BootstrapRefiner, RunPhase.Sampling, RunPhase.Judging, RunPhase.Search,
        RunPhase.ActorTraining, RunPhase.RefinerTraining, RunPhase.Evaluation,
    ];

    [Fact]
    public async Task RandomKills_EveryTrial_CompletesWithoutLostOrDuplicatedData()
    {
        var trials = int.TryParse(Environment.GetEnvironmentVariable("SPAR_FAULT_TRIALS"), out var n) && n > 0 ? n : 1;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SPAR_FAULT_SEED"), out var s) ? s : Environment.TickCount;
        var random = new Random(seed);
        var reference = await fixture.ReferenceAsync();
        var results = new List<TrialResult>();
        for (var trial = 1; trial <= trials; trial++)
        {
            var result = await TrialAsync(trial, random, reference);
            output.WriteLine(JsonSerializer.Serialize(result));
            results.Add(result);
        }
        var summary = new TrialSummary(seed, trials, results.Count(r => r.Completed), results.Sum(r => r.LostPairs), results.Sum(r => r.DuplicatedPairs),
            results.Sum(r => r.LostExamples), results.Sum(r => r.DuplicatedExamples), reference.Pairs.Values.Sum(p => p.Count), reference.Examples.Values.Sum(e => e.Count), results);
        output.WriteLine($"trials {summary.Trials}, completed {summary.Completed}, pairs lost {summary.LostPairs} duplicated {summary.DuplicatedPairs}, " +
            $"RFT examples lost {summary.LostExamples} duplicated {summary.DuplicatedExamples} (reference: {summary.ReferencePairs} pairs, {summary.ReferenceExamples} examples; seed {seed})");
        if (Environment.GetEnvironmentVariable("SPAR_FAULT_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        }

        Assert.All(results, r => Assert.True(r.Completed, $"trial {r.Trial} ({r.Fault} at {r.Point}) ended {r.Status}: {r.Error}"));
        Assert.All(results, r => Assert.Equal((0, 0, 0, 0), (r.LostPairs, r.DuplicatedPairs, r.LostExamples, r.DuplicatedExamples)));
        Assert.All(results, r => Assert.True(r.SamePrompts, $"trial {r.Trial}: prompts differ from the reference"));
    }

    private async Task<TrialResult> TrialAsync(int trial, Random random, RunRecord reference)
    {
        var spec = FaultCluster.Spec(fixture.NewOutput());
        await using var cluster = await FaultCluster.StartAsync(fixture.Azurite.ConnectionString);
        var killClient = random.Next(4) == 0;
        var victim = cluster.Cluster.Silos[1 + random.Next(cluster.Cluster.Silos.Count - 1)];
        Task trigger;
        string point;
        if (random.Next(2) == 0)
        {
            var call = 1 + random.Next(reference.GenerationCalls);
            cluster.Backend.SignalAtCall(call);
            trigger = cluster.Backend.CallReached;
            point = $"generation call {call}/{reference.GenerationCalls}";
        }
        else
        {
            var phase = KillablePhases[random.Next(KillablePhases.Length)];
            trigger = PhaseEnteredAsync(cluster, spec, phase);
            point = $"phase {phase}";
        }
        await cluster.StartRunAsync(spec);
        await trigger.WaitAsync(TimeSpan.FromMinutes(3));
        if (killClient)
        {
            await cluster.Cluster.KillClientAsync();
            await cluster.Cluster.InitializeClientAsync();
        }
        else
        {
            await cluster.Cluster.KillSiloAsync(victim);
            await cluster.Cluster.StartAdditionalSiloAsync();
        }
        var record = await cluster.FinishAsync(spec);
        var pairs = DatasetDiff.Of(reference.Pairs, record.Pairs);
        var examples = DatasetDiff.Of(reference.Examples, record.Examples);
        return new TrialResult(
            trial, killClient ? "client killed" : $"{victim.Name} killed", point, record.Final.Status == RunStatusKind.Completed,
            record.Final.Status.ToString(), record.Final.Error, pairs.Lost, pairs.Duplicated, examples.Lost, examples.Duplicated,
            reference.PromptKeys.SequenceEqual(record.PromptKeys, new SequenceComparer()));
    }

    /// <summary>
    /// Completes when the run is seen at <paramref name="phase"/> or past it (a watcher may miss a short phase; the
    /// bootstrap phases belong to iteration 0, the others to iteration 1).
    /// </summary>
    private static async Task PhaseEnteredAsync(FaultCluster cluster, RunSpec spec, RunPhase phase)
    {
        var run = cluster.Run(spec);
        var iteration = phase is RunPhase.BootstrapActor or RunPhase.BootstrapRefiner ? 0 : 1;
        await RoleMetadata.CallWhenPropagatedAsync(async () => (await run.GetStatusAsync()).Status);
        await foreach (var status in run.WatchAsync())
        {
            if (status.Iteration > iteration || (status.Iteration == iteration && status.Phase >= phase))
            {
                return;
            }
        }
    }

    private sealed class SequenceComparer : IEqualityComparer<IReadOnlyList<string>>
    {
        public bool Equals(IReadOnlyList<string>? x, IReadOnlyList<string>? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(IReadOnlyList<string> obj) => obj.Count;
    }
}

public sealed record TrialResult(
    int Trial, string Fault, string Point, bool Completed, string Status, string? Error,
    int LostPairs, int DuplicatedPairs, int LostExamples, int DuplicatedExamples, bool SamePrompts);

public sealed record TrialSummary(
    int Seed, int Trials, int Completed, int LostPairs, int DuplicatedPairs, int LostExamples, int DuplicatedExamples,
    int ReferencePairs, int ReferenceExamples, IReadOnlyList<TrialResult> Results);
