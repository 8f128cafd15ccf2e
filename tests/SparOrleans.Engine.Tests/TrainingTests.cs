using SparOrleans.Core.Simulation;
using System.Diagnostics;
using System.Text.Json.Nodes;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Training;
using Xunit.Abstractions;

namespace SparOrleans.Engine.Tests;

public class TrainingTests(ITestOutputHelper output)
{
    private static GenerationRequest Greedy(string prompt, int max = 16) => GenerationRequest.FromUser(prompt) with { Temperature = 0, MaxNewTokens = max };

    [Fact]
    public void Sft_HandfulOfExamples_OverfitsToExactGreedyOutput()
    {
        using var model = TestSupport.TinyModel();
        (string Prompt, string Answer)[] pairs = [("Name a color", "teal"), ("2+2?", "four"), ("Say hi", "hello world"), ("Last letter", "z")];
        var data = pairs.Select(p => TrainingSequence.FromUser(model.Template, p.Prompt, p.Answer)).ToList();
        using var trainer = new SftTrainer(model, new SftOptions { LearningRate = 3e-3, Epochs = 150, BatchSize = 4, MicroBatchSize = 4 });
        var summary = trainer.Train(data);
        Assert.True(summary.LastMetrics["loss"] < 0.02, $"final loss {summary.LastMetrics["loss"]}");
        var outputs = BatchGenerator.Generate(model, pairs.Select(p => Greedy(p.Prompt)).ToList());
        Assert.Equal(pairs.Select(p => p.Answer), outputs.Select(o => o.Text));
        Assert.All(outputs, o => Assert.Equal(FinishReason.EndOfTurn, o.FinishReason));
    }

    [Fact]
    public void Sft_LettersTask_ReachesHeldOutExactMatch()
    {
        var clock = Stopwatch.StartNew();
        // Training is bit-reproducible across processes, so this seed's outcome is fixed: model seeds 3–8 reach
        // 39, 39, 39, 40, 40, 40 of 40 with these settings (measured with an out-of-tree loop over the seeds).
        using var model = TestSupport.TinyModel(d: 128, layers: 2, heads: 4, seed: 4);
        var combos = LetterTask.Combos(9, seed: 5);
        var heldOut = combos.Take(40).ToList();
        var train = combos.Skip(40).Select(c => TestSupport.LettersExample(model, c.Count, c.Letter)).ToList();
        var options = new SftOptions
        {
            LearningRate = 3e-3, Epochs = 100, BatchSize = 32, MicroBatchSize = 32, WarmupSteps = 20,
            Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1, Seed = 1,
        };
        using var trainer = new SftTrainer(model, options);
        var summary = trainer.Train(train);
        var outputs = BatchGenerator.Generate(model, heldOut.Select(c => Greedy(LetterTask.Instruction(c.Count, c.Letter))).ToList());
        var correct = heldOut.Zip(outputs).Count(x => x.Second.Text == new string(x.First.Letter, x.First.Count));
        foreach (var (combo, result) in heldOut.Zip(outputs).Where(x => x.Second.Text != new string(x.First.Letter, x.First.Count)))
        {
            output.WriteLine($"wrong: {LetterTask.Instruction(combo.Count, combo.Letter)} -> {result.Text}");
        }
        output.WriteLine($"steps {summary.Steps}, loss {summary.LastMetrics["loss"]:F4}, held-out {correct}/{heldOut.Count}, {clock.Elapsed.TotalSeconds:F1}s, {summary.TokensSeen / summary.Elapsed.TotalSeconds:F0} tok/s");
        Assert.True(correct >= 0.95 * heldOut.Count, $"held-out exact match {correct}/{heldOut.Count}");
    }

    [Fact]
    public void Dpo_OneEpochOnSyntheticPairs_RaisesAccuracyAndMargin()
    {
        using var model = TestSupport.TinyModel(seed: 4);
        var combos = LetterTask.Combos(9, seed: 9).Take(96).ToList();
        // Rejected answers repeat the count's digit instead of the letter: a preference one epoch can teach.
        var pairs = combos.Select(c => new DpoPair([new ChatMessage(ChatMessage.User, LetterTask.Instruction(c.Count, c.Letter))],
            new string(c.Letter, c.Count), new string((char)('0' + c.Count), c.Count))).ToList();
        var metricsPath = Path.Combine(TestSupport.TempDir(), "dpo.jsonl");
        using var trainer = new DpoTrainer(model, new DpoOptions { LearningRate = 1e-3, BatchSize = 8, MicroBatchSize = 8, Beta = 0.1, MetricsPath = metricsPath });
        var before = trainer.Evaluate(pairs);
        trainer.Train(pairs);
        var after = trainer.Evaluate(pairs);
        output.WriteLine($"accuracy {before["rewards/accuracies"]} -> {after["rewards/accuracies"]}, margin {before["rewards/margins"]} -> {after["rewards/margins"]}");
        Assert.Equal(0, before["rewards/margins"], 4);
        Assert.True(after["rewards/accuracies"] > 0.9, $"accuracy {after["rewards/accuracies"]}");
        Assert.True(after["rewards/margins"] > 0);
        var lines = File.ReadAllLines(metricsPath);
        Assert.Equal(12, lines.Length);
        var first = JsonNode.Parse(lines[0])!.AsObject();
        foreach (var key in new[] { "step", "epoch", "loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected", "nll_loss", "grad_norm", "learning_rate" })
        {
            Assert.True(first.ContainsKey(key), $"metric {key} missing");
        }
    }

    [Fact]
    public void Sft_ResumeFromCheckpoint_ContinuesBitForBit()
    {
        var data = Enumerable.Range(1, 9).Select(n => TestSupport.LettersExample(TestSupport.TinyModel(d: 32, layers: 1), n, 'r')).ToList();
        var options = new SftOptions { LearningRate = 2e-3, Epochs = 3, BatchSize = 4, MicroBatchSize = 2, WarmupSteps = 2, Schedule = LearningRateSchedule.Linear, Seed = 3 };
        using var straight = TestSupport.TinyModel(d: 32, layers: 1);
        using (var t = new SftTrainer(straight, options))
        {
            Assert.Equal(9, t.Train(data).Steps);
        }
        var dir = TestSupport.TempDir();
        using (var partial = TestSupport.TinyModel(d: 32, layers: 1))
        using (var t = new SftTrainer(partial, options))
        {
            t.Train(data, stopAtStep: 4);
            t.SaveCheckpoint(dir);
        }
        using var resumed = TestSupport.TinyModel(d: 32, layers: 1, seed: 99);
        using (var t = new SftTrainer(resumed, options))
        {
            t.Resume(dir);
            Assert.Equal(4, t.Step);
            t.Train(data);
        }
        var a = straight.Network.state_dict();
        foreach (var (name, tensor) in resumed.Network.state_dict())
        {
            Assert.True(tensor.equal(a[name]).all().item<bool>(), $"{name} differs after resume");
        }
    }

    [Fact]
    public void Options_OutOfRange_ThrowNamingEachOption()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new SftOptions { LearningRate = 0, BatchSize = 0, InputLossWeight = -1 }.Validated());
        Assert.Contains("learning_rate", e.Message);
        Assert.Contains("batch_size", e.Message);
        Assert.Contains("input_loss_weight", e.Message);
        Assert.Throws<InvalidOptionsException>(() => new DpoOptions { Beta = 0 }.Validated());
    }

    [Fact]
    public void LearningRate_WarmupThenCosine_FollowsSchedule()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 1);
        var loop = new OptimizationLoop(model, new SftOptions { LearningRate = 1e-3, WarmupSteps = 9, Schedule = LearningRateSchedule.Cosine, MinLearningRateRatio = 0.1 });
        Assert.Equal(1e-4, loop.LearningRateAt(0, 109), 10);
        Assert.Equal(1e-3, loop.LearningRateAt(9, 109), 10);
        Assert.Equal(0.55e-3, loop.LearningRateAt(59, 109), 10);
        Assert.Equal(1e-4, loop.LearningRateAt(109, 109), 10);
        loop.Dispose();
    }

    [Fact]
    public void Sft_InputLossWeight_AddsLossOnPromptTokens()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 1);
        var data = new[] { TestSupport.LettersExample(model, 3, 'a') };
        using var clone = model.Clone();
        using var plain = new SftTrainer(model, new SftOptions { MaxSteps = 1, BatchSize = 1, MicroBatchSize = 1 });
        using var aux = new SftTrainer(clone, new SftOptions { MaxSteps = 1, BatchSize = 1, MicroBatchSize = 1, InputLossWeight = 0.5 });
        var plainLoss = plain.Train(data).LastMetrics["loss"];
        var auxLoss = aux.Train(data).LastMetrics["loss"];
        // Prompt bytes are nearly uniform for an untrained model (ln 264 ≈ 5.6), as are target bytes: the weighted mean stays close, but differs.
        Assert.NotEqual(plainLoss, auxLoss);
        Assert.InRange(auxLoss, 4.5, 6.5);
    }
}
