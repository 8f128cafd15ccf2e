using System.Text.Json;
using SparOrleans.Core.Datasets;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Models.Runs;

namespace SparOrleans.Models.Tests;

/// <summary>The model run's training steps on a tiny checkpoint: LoRA carried from version to version, full weights, copies.</summary>
public sealed class ModelWorkshopTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spar-workshop-").FullName;

    private readonly ModelWorkshop _workshop = new();

    private static readonly IProgress<StepProgressInfo> Quiet = new Progress<StepProgressInfo>();

    private static readonly IReadOnlyList<DpoPair> Pairs =
    [
        new("Name a bird.", "A robin.", "a robin, a crow"),
        new("Name a fish.", "A trout.", "a trout, a carp"),
        new("Name a tree.", "An oak.", "an oak, a pine"),
        new("Name a flower.", "A rose.", "a rose, a lily"),
    ];

    public ModelWorkshopTests()
    {
        using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 1);
        ModelCheckpoint.Save(model, M0);
    }

    private string M0 => Path.Combine(_root, "m0");

    private string Dir(string name) => Path.Combine(_root, "run", "models", name);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private RunSpec Spec(string settings) => new("r", Path.Combine(_root, "run"), 1, 2, 4, "bfs", "models", "{}", 2,
        Models: new ModelRunSpec(M0, M0, Path.Combine(_root, "prompts.jsonl"), null, null, "compact",
            ModelRunSettings.FromJson(settings, "test").ToJson()));

    private static JsonElement FirstMetrics(string directory)
    {
        var line = File.ReadLines(Path.Combine(directory, ModelWorkshop.MetricsFile)).First();
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    [Fact]
    public async Task TrainActor_Lora_EachVersionAnAdapterOverM0_TrainedOnFromThePreviousWithItAsReference()
    {
        var spec = Spec("""{"Lora": {"Rank": 4, "Alpha": 8, "Dropout": 0}, "Dpo": {"LearningRate": 0.01, "BatchSize": 2, "MicroBatchSize": 2}}""");

        await _workshop.TrainActorAsync(spec, M0, Dir("actor-1"), Pairs, Quiet, default);
        await _workshop.TrainActorAsync(spec, Dir("actor-1"), Dir("actor-2"), Pairs, Quiet, default);

        foreach (var version in new[] { "actor-1", "actor-2" })
        {
            Assert.Equal(Path.GetFullPath(M0), LoraAdapters.BaseOf(Dir(version)));
            Assert.False(File.Exists(Path.Combine(Dir(version), "model.safetensors")), "a LoRA version holds the adapter only");
            // The first step's rewards are log-ratios against the reference: zero when the reference is the starting
            // model itself (M_{t-1}, adapter on), not the base M_0.
            var first = FirstMetrics(Dir(version));
            Assert.Equal(0, first.GetProperty("rewards/chosen").GetDouble(), 6);
            Assert.Equal(0, first.GetProperty("rewards/rejected").GetDouble(), 6);
        }
        using var one = ModelCheckpoint.LoadModelOrAdapter(Dir("actor-1"));
        using var two = ModelCheckpoint.LoadModelOrAdapter(Dir("actor-2"));
        var a = LoraAdapters.AdapterTensors(one.Network);
        var b = LoraAdapters.AdapterTensors(two.Network);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.Contains(a.Keys, k => !a[k].allclose(b[k]));
        var request = new GenerationRequest([new("user", "Name a bird.")]) { MaxNewTokens = 4, Seed = 1, Temperature = 1 };
        Assert.Equal(4, BatchGenerator.Generate(two, [request])[0].TokenIds.Count);
    }

    [Fact]
    public async Task TrainActor_FullWeights_WholeCheckpointWithTheStartAsReference()
    {
        var spec = Spec("""{"Dpo": {"LearningRate": 0.001, "BatchSize": 2, "MicroBatchSize": 2}}""");

        var report = await _workshop.TrainActorAsync(spec, M0, Dir("actor-1"), Pairs, Quiet, default);

        Assert.Equal(2, report.Steps);
        Assert.True(File.Exists(Path.Combine(Dir("actor-1"), "model.safetensors")));
        Assert.Null(LoraAdapters.BaseOf(Dir("actor-1")));
        Assert.Equal(0, FirstMetrics(Dir("actor-1")).GetProperty("rewards/margins").GetDouble(), 6);
    }

    [Fact]
    public async Task TrainRefiner_NoExamples_TheModelUnchanged()
    {
        var report = await _workshop.TrainRefinerAsync(Spec("{}"), M0, Dir("refiner-1"), [], Quiet, default);

        Assert.Equal(0, report.Steps);
        Assert.Equal(File.ReadAllBytes(Path.Combine(M0, "model.safetensors")), File.ReadAllBytes(Path.Combine(Dir("refiner-1"), "model.safetensors")));
    }

    [Fact]
    public async Task Evaluate_NoEvaluationSets_NotMeasured()
    {
        var report = await _workshop.EvaluateAsync(Spec("{}"), M0, M0, Quiet, default);

        Assert.True(double.IsNaN(report.Actor.PromptStrict));
        Assert.True(double.IsNaN(report.Refiner.Accuracy));
    }

    [Fact]
    public void Settings_BadValues_EveryProblemNamed()
    {
        var e = Assert.ThrowsAny<Exception>(() => ModelRunSettings.FromJson("""{"Device": "tpu", "Dpo": {"Beta": -1}, "Lora": {"Rank": 0}}""", "f.json"));

        Assert.Contains("Device must be cpu, cuda or cuda:N", e.Message);
        Assert.Contains("Dpo.beta", e.Message);
        Assert.Contains("Lora.LoRA rank", e.Message);
    }
}
