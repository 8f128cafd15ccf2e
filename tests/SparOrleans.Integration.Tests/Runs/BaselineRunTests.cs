using System.Text.Json;
using SparOrleans.Core.Datasets;
using SparOrleans.Integration.Tests.Faults;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator;

namespace SparOrleans.Integration.Tests.Runs;

/// <summary>
/// The baselines of Table 1 that train differently from SPaR, run whole on a gpu + cpu cluster with scripted
/// generation and real training: what each training step was given, and how it trained.
/// </summary>
public sealed class BaselineRunTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    private async Task<(RunSpec Spec, RunRecord Record, RecordingWorkshop Workshop)> RunAsync(PairSource pairs)
    {
        var spec = FaultCluster.Spec(fixture.NewOutput()) with { RunId = $"baseline-{pairs}", Pairs = pairs };
        await using var cluster = await FaultCluster.StartAsync(fixture.Azurite.ConnectionString, cpuSilos: 1);
        await cluster.StartRunAsync(spec);
        var record = await cluster.FinishAsync(spec);
        Assert.True(record.Final.Status == RunStatusKind.Completed, record.Final.Error);
        return (spec, record, cluster.Workshop);
    }

    private static IReadOnlyList<string> Metrics(RunSpec spec, string model) =>
        File.ReadAllLines(Path.Combine(spec.OutputDirectory, "models", model, IterationTraining.MetricsFile));

    [Fact]
    public async Task Run_MetaRewarding_RefinerAlsoLearnsKeptOverDissentingJudgmentsByDpo()
    {
        var (spec, record, workshop) = await RunAsync(PairSource.MetaRewarding);

        var judgePairs = workshop.JudgePairs["refiner-1"].Select(j => JsonSerializer.Deserialize<DpoPair>(j)!).ToList();
        Assert.NotEmpty(judgePairs);
        Assert.All(judgePairs, p =>
        {
            Assert.StartsWith("J|", p.Prompt);
            Assert.NotEqual(p.Chosen, p.Rejected);
        });
        Assert.Contains(Metrics(spec, "refiner-1"), l => l.Contains("\"rewards/margins\""));
        // Self-rewarding's actor side: pairs from the judged samples, no tree.
        Assert.Equal(0, record.Final.Iterations[1].Negatives);
        Assert.NotEmpty(record.Pairs["actor-1"]);
    }

    [Fact]
    public async Task Run_SelfRefine_ActorLearnsTheTreeSearchsRefinementsBySftAlone()
    {
        var (spec, record, workshop) = await RunAsync(PairSource.SelfRefine);

        Assert.True(record.Final.Iterations[1].Negatives > 0);
        Assert.NotEmpty(record.Pairs["actor-1"]);
        var actorMetrics = Metrics(spec, "actor-1");
        Assert.NotEmpty(actorMetrics);
        Assert.DoesNotContain(actorMetrics, l => l.Contains("rewards/"));
        Assert.False(workshop.JudgePairs.ContainsKey("refiner-1"));
    }
}
