using SparOrleans.Core.Options;

// The pair-kinds runs train TorchSharp models: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SparOrleans.Experiments.Tests;

public sealed class PairKindsExperimentTests
{
    [Fact]
    public async Task Run_ShortDpo_InterferingPairsTeachUppercaseRefinementPairsKeepLowercase()
    {
        // A short start and a few DPO steps already show Figure 4's side effect (measured: uppercase share 0 -> 100%
        // within 20 steps); the accuracy claim needs the experiment's defaults and is measured by `spar experiment pairs`.
        var options = new PairKindsOptions(Seeds: 1, HeldOut: 40, SftSteps: 40, DpoSteps: 20, EvalEvery: 10, Threads: 1);
        var lines = new List<string>();

        var result = await PairKindsExperiment.RunAsync(options, new SynchronousProgress<string>(lines.Add));

        var refinement = result.Curve(PairKindsExperiment.Refinement);
        var interfering = result.Curve(PairKindsExperiment.Interfering);
        Assert.Equal([0, 10, 20], refinement.Steps);
        Assert.Equal(refinement.Accuracy[0].PerSeed, interfering.Accuracy[0].PerSeed);
        Assert.Equal(refinement.Factor[0].PerSeed, interfering.Factor[0].PerSeed);
        Assert.True(interfering.Factor[^1].Mean > 0.5, string.Join("\n", lines));
        Assert.True(refinement.Factor[^1].Mean < 0.1, $"refinement uppercase share {refinement.Factor[^1].Mean}");
        Assert.Equal(6, lines.Count);
    }

    [Fact]
    public void Options_EvalEveryNotDividingSteps_StillMeasuresTheLastStep() =>
        Assert.Equal([0, 30, 60, 70], new PairKindsOptions(DpoSteps: 70, EvalEvery: 30).Checkpoints);

    [Fact]
    public void Options_OutOfRange_NameEveryProblem()
    {
        var error = Assert.Throws<InvalidOptionsException>(() => new PairKindsOptions(Seeds: 0, HeldOut: 10_000, HiddenSize: 30).Validated());
        Assert.Contains("Seeds", error.Message);
        Assert.Contains("HeldOut", error.Message);
        Assert.Contains("HiddenSize", error.Message);
    }
}
