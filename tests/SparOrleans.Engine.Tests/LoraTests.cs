using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

/// <summary>
/// LoRA: PEFT adapters written by the independent reference (Reference/peft_reference.py) load and reproduce its
/// logits and greedy tokens; merging into bf16 weights stays within the reference's own rounding; our saved
/// adapters carry PEFT's names; training touches only adapters; DPO's reference is the base; gradient
/// checkpointing gives the same gradients.
/// </summary>
public class LoraTests
{
    public LoraTests() => TorchRuntime.Configure(threads: 1);

    public static TheoryData<string, string> Adapters() => new()
    {
        { "llama-gqa-untied-bf16-sharded", "lora-qv" },
        { "qwen3-qknorm", "lora-all-rslora" },
    };

    private static string AdapterDir(string model, string adapter) => Path.Combine(ReferenceFixtures.Dir(model), "adapters", adapter);

    [Theory]
    [MemberData(nameof(Adapters))]
    public void PeftAdapter_FromTheReference_MatchesItsLogitsAndGreedy(string model, string adapter)
    {
        var dir = AdapterDir(model, adapter);
        var golden = ReferenceFixtures.Load(dir);
        using var net = ModelCheckpoint.LoadNetwork(ReferenceFixtures.Dir(model));
        LoraAdapters.Load(net, dir);
        using (no_grad())
        {
            for (var p = 0; p < golden.Prompts.Length; p++)
            {
                using var logits = net.Forward(ReferenceFixtures.Ids(golden.Prompts[p]));
                var diff = ReferenceFixtures.MaxDiff(logits, golden.Logits[p]);
                Assert.True(diff < 2e-5, $"{adapter} prompt {p}: max |logit diff| {diff:E2}");
                Assert.Equal(golden.Greedy[p], ReferenceFixtures.GreedyCached(net, golden.Prompts[p], golden.MaxNewTokens));
            }
        }
        // Switched off, the adapters leave the base model: the base case's own golden logits.
        var baseGolden = ReferenceFixtures.Load(ReferenceFixtures.Dir(model));
        using (LoraAdapters.Disabled(net))
        using (no_grad())
        {
            using var logits = net.Forward(ReferenceFixtures.Ids(baseGolden.Prompts[0]));
            Assert.True(ReferenceFixtures.MaxDiff(logits, baseGolden.Logits[0]) < 2e-5);
        }
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public void Merge_IntoBf16AndSaved_StaysWithinTheReferencesMergedRounding(string model, string adapter)
    {
        var dir = AdapterDir(model, adapter);
        var golden = ReferenceFixtures.Load(dir);
        var bound = golden.Root["merged_max_abs_diff_bf16"]!.GetValue<double>();
        using var net = ModelCheckpoint.LoadNetwork(ReferenceFixtures.Dir(model), dtype: ScalarType.BFloat16);
        LoraAdapters.Load(net, dir);
        LoraAdapters.Merge(net);
        var saved = TestSupport.TempDir();
        using (var lm = new LanguageModel(net, new Text.CompactChatTemplate()))
        {
            ModelCheckpoint.Save(lm, saved);
        }
        // The merged model, computed in fp32 from its bf16 weights, is what the reference measured.
        using var merged = ModelCheckpoint.LoadNetwork(saved);
        using var noGrad = no_grad();
        using var logits = merged.Forward(ReferenceFixtures.Ids(golden.Prompts[0]));
        var diff = ReferenceFixtures.MaxDiff(logits, golden.Logits[0]);
        Assert.True(diff <= bound * 1.05 + 1e-5, $"merged max |logit diff| {diff} vs the reference's {bound}");
        var mergedGreedy = golden.Root["merged_greedy_bf16"]!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<long>()).ToArray()).ToArray();
        Assert.Equal(mergedGreedy[0], ReferenceFixtures.GreedyCached(merged, golden.Prompts[0], golden.MaxNewTokens));
    }

    [Fact]
    public void Save_AdapterInPeftLayout_NamesAndConfigAsTheReferenceWrites()
    {
        var reference = AdapterDir("llama-gqa-untied-bf16-sharded", "lora-qv");
        using var net = ModelCheckpoint.LoadNetwork(ReferenceFixtures.Dir("llama-gqa-untied-bf16-sharded"));
        LoraAdapters.Load(net, reference);
        var dir = TestSupport.TempDir();
        LoraAdapters.Save(net, dir, "llama-gqa-untied-bf16-sharded");
        var ours = Safetensors.ReadHeader(Path.Combine(dir, LoraAdapters.WeightsFile), out _);
        var theirs = Safetensors.ReadHeader(Path.Combine(reference, LoraAdapters.WeightsFile), out _);
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        Assert.All(theirs, kv => Assert.Equal(kv.Value.Shape, ours[kv.Key].Shape));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, LoraAdapters.ConfigFile)))!;
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        using var again = ModelCheckpoint.LoadNetwork(ReferenceFixtures.Dir("llama-gqa-untied-bf16-sharded"));
        LoraAdapters.Load(again, dir);
        using var ids = tensor(new long[] { 4, 8, 15, 16, 23, 42 }, [1, 6]);
        using var noGrad = no_grad();
        Assert.True(net.Forward(ids).equal(again.Forward(ids)).all().item<bool>());
    }

    [Theory]
    [InlineData("use_dora", "use_dora (DoRA) is not supported")]
    [InlineData("peft_type", "peft_type 'IA3' is not supported")]
    [InlineData("target", "LoRA target modules must be among")]
    public void Load_AdapterFeaturesNotComputed_RefusedByName(string change, string expected)
    {
        var dir = TestSupport.TempDir();
        var source = AdapterDir("llama-gqa-untied-bf16-sharded", "lora-qv");
        File.Copy(Path.Combine(source, LoraAdapters.WeightsFile), Path.Combine(dir, LoraAdapters.WeightsFile));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, LoraAdapters.ConfigFile)))!.AsObject();
        switch (change)
        {
            case "use_dora":
                config["use_dora"] = true;
                break;
            case "peft_type":
                config["peft_type"] = "IA3";
                break;
            default:
                config["target_modules"] = new JsonArray("q_proj", "lm_head");
                break;
        }
        File.WriteAllText(Path.Combine(dir, LoraAdapters.ConfigFile), config.ToJsonString());
        using var net = ModelCheckpoint.LoadNetwork(ReferenceFixtures.Dir("llama-gqa-untied-bf16-sharded"));
        var e = Assert.Throws<UserInputException>(() => LoraAdapters.Load(net, dir));
        Assert.Contains(expected, e.Message);
    }

    private static List<TrainingSequence> Letters(LanguageModel model) =>
        [.. Enumerable.Range(0, 16).Select(i => TestSupport.LettersExample(model, 1 + i % 5, (char)('a' + i % 7)))];

    [Fact]
    public void SftWithLora_TrainsOnlyTheAdapters_AndLowersTheLoss()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 2, heads: 2);
        var before = model.Network.Weights().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        using var trainer = new SftTrainer(model, new SftOptions
        {
            LearningRate = 3e-2, MaxSteps = 40, Epochs = 100, BatchSize = 8, MicroBatchSize = 8,
            Lora = new LoraOptions(Rank: 4, Alpha: 8, Dropout: 0),
        });
        var losses = new List<double>();
        trainer.Train(Letters(model), new Progress(p => losses.Add(p.Metrics["loss"])));
        Assert.All(model.Network.Weights(), kv => Assert.True(kv.Value.equal(before[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Contains(LoraAdapters.AdapterTensors(model.Network).Values, t => t.abs().sum().item<float>() > 0);
        Assert.True(losses[^1] < losses[0] - 0.05, $"loss {losses[0]} -> {losses[^1]}");
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void DpoWithLora_ReferenceIsTheBaseWithoutAdapters()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 2, heads: 2);
        LoraAdapters.Attach(model.Network, new LoraOptions(Rank: 4, Alpha: 8, Dropout: 0));
        using (no_grad())
        {
            // Trained-looking adapters: the policy now differs from the base.
            foreach (var t in LoraAdapters.AdapterTensors(model.Network).Values)
            {
                t.copy_(randn(t.shape) * 0.2);
            }
        }
        DpoPair[] pairs = [new([new ChatMessage("user", "Write 3 letters a")], "aaa", "aab")];
        using var trainer = new DpoTrainer(model, new DpoOptions { Beta = 0.5 });
        var metrics = trainer.Evaluate(pairs);
        double Logp(string target)
        {
            var seq = TrainingSequence.FromChat(model.Template, pairs[0].Prompt, target);
            using var noGrad = no_grad();
            using var logits = model.Network.Forward(tensor(seq.Tokens.Select(t => (long)t).ToArray(), [1, seq.Tokens.Length]));
            var logp = nn.functional.log_softmax(logits[0], -1);
            return Enumerable.Range(1, seq.Tokens.Length - 1).Where(i => seq.Target[i])
                .Sum(i => logp[i - 1, seq.Tokens[i]].item<float>());
        }
        var policy = Logp("aaa");
        double reference;
        using (LoraAdapters.Disabled(model.Network))
        {
            reference = Logp("aaa");
        }
        Assert.True(Math.Abs(policy - reference) > 1e-3, "the adapters should change the policy");
        Assert.Equal(0.5 * (policy - reference), metrics["rewards/chosen"], 3);
    }

    [Fact]
    public void GradientCheckpointing_GivesTheSameGradients_EvenWithDropout()
    {
        Dictionary<string, float[]> Gradients(bool checkpointing)
        {
            using var model = TestSupport.TinyModel(d: 32, layers: 3, heads: 2);
            LoraAdapters.Attach(model.Network, new LoraOptions(Rank: 4, Alpha: 8, Dropout: 0.3));
            using (no_grad())
            {
                foreach (var t in LoraAdapters.AdapterTensors(model.Network).Values)
                {
                    t.copy_(randn(t.shape, generator: new TorchSharp.torch.Generator(7)) * 0.1);
                }
            }
            model.Network.GradientCheckpointing = checkpointing;
            model.Network.train();
            random.manual_seed(11);
            using var ids = tensor(Enumerable.Range(0, 24).Select(i => (long)(i * 37 % 250)).ToArray(), [2, 12]);
            var logits = model.Network.Forward(ids);
            var loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), ids.reshape(-1));
            loss.backward();
            return model.Network.named_parameters().Where(p => p.parameter.requires_grad)
                .ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
        }
        var plain = Gradients(false);
        var recomputed = Gradients(true);
        Assert.Equal(plain.Keys.Order(), recomputed.Keys.Order());
        Assert.Contains(plain.Values, g => g.Any(v => v != 0));
        foreach (var (name, g) in plain)
        {
            var worst = g.Zip(recomputed[name], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-6, $"{name}: max |grad diff| {worst}");
        }
    }
}
