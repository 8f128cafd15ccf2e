using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

/// <summary>
/// What a checkpoint holds (HF names only, one tensor per parameter, in the model's dtype), what the loader accepts
/// from other writers, what it refuses, and BF16 weights and compute checked against the independent reference.
/// </summary>
public class HfCheckpointTests
{
    public HfCheckpointTests() => TorchRuntime.Configure(threads: 1);

    private static string CopyOf(string name)
    {
        var dir = TestSupport.TempDir();
        foreach (var file in Directory.GetFiles(ReferenceFixtures.Dir(name)))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }
        return dir;
    }

    [Fact]
    public void Save_WritesEachParameterOnceUnderItsHfName()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 2, heads: 2);
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        var file = Path.Combine(dir, ModelCheckpoint.WeightsFile);
        var header = Safetensors.ReadHeader(file, out var meta);
        // embed + final norm + 9 per layer (4 attention, 3 MLP, 2 norms); the tied head is not stored again.
        Assert.Equal(2 + 9 * 2, header.Count);
        Assert.All(header.Keys, n => Assert.Matches(@"^model\.(embed_tokens|norm|layers\.\d\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj|input_layernorm|post_attention_layernorm))\.weight$", n));
        var unique = model.Network.parameters().Sum(p => p.numel());
        Assert.Equal(unique * 4, header.Values.Sum(e => e.End - e.Begin));
        Assert.Equal("v0", meta["spar_version"]);
    }

    [Fact]
    public void Load_OurEarlierAliasLadenCheckpoint_StillLoads()
    {
        using var model = TestSupport.TinyModel(d: 32, layers: 1, heads: 2);
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        var file = Path.Combine(dir, ModelCheckpoint.WeightsFile);
        var tensors = Safetensors.Read(file);
        // What the save wrote before it went by HF names: every tensor again under its C# field path.
        foreach (var (name, t) in tensors.ToList())
        {
            tensors[name.Replace("self_attn.", "_attention.", StringComparison.Ordinal).Replace("model.layers", "model.Layers", StringComparison.Ordinal)] = t;
        }
        tensors["model.EmbedTokens.weight"] = tensors["model.embed_tokens.weight"];
        Safetensors.Write(file, tensors, new Dictionary<string, string> { ["format"] = "pt", ["spar_version"] = "v0" });
        using var loaded = ModelCheckpoint.Load(dir);
        using var ids = tensor(new long[] { 5, 9, 80, 3 }, [1, 4]);
        using var noGrad = no_grad();
        Assert.True(model.Network.Forward(ids).equal(loaded.Network.Forward(ids)).all().item<bool>());
    }

    [Fact]
    public void Load_ForeignCheckpointWithUnknownTensor_Refused()
    {
        var dir = CopyOf("llama-mqa-f16");
        var file = Path.Combine(dir, ModelCheckpoint.WeightsFile);
        var tensors = Safetensors.Read(file);
        tensors["model.layers.0.self_attn.q_proj.bias"] = zeros(64);
        Safetensors.Write(file, tensors);
        var e = Assert.Throws<UserInputException>(() => ModelCheckpoint.LoadNetwork(dir));
        Assert.Contains("unexpected tensors: model.layers.0.self_attn.q_proj.bias", e.Message);
    }

    [Theory]
    [InlineData("gemma", "model_type 'gemma' is not supported")]
    [InlineData("yarn", "rope_scaling type 'yarn' is not supported")]
    [InlineData("gelu", "hidden_act 'gelu' is not supported")]
    [InlineData("no-vocab", "missing 'vocab_size'")]
    public void Load_ConfigTheEngineCannotCompute_RefusedNamingIt(string change, string expected)
    {
        var dir = CopyOf("llama3-rope");
        var path = Path.Combine(dir, ModelCheckpoint.ConfigFile);
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        switch (change)
        {
            case "gemma":
                config["model_type"] = "gemma";
                break;
            case "yarn":
                config["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0, ["original_max_position_embeddings"] = 32 };
                break;
            case "gelu":
                config["hidden_act"] = "gelu";
                break;
            default:
                config.Remove("vocab_size");
                break;
        }
        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<UserInputException>(() => ModelCheckpoint.LoadNetwork(dir));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Load_TruncatedWeightsOrMissingShard_UserErrorNamingTheFile()
    {
        var dir = CopyOf("llama-mha-tied-f32");
        var file = Path.Combine(dir, ModelCheckpoint.WeightsFile);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<UserInputException>(() => ModelCheckpoint.LoadNetwork(dir));
        Assert.Contains("truncated or corrupt", e.Message);

        var sharded = CopyOf("llama-gqa-untied-bf16-sharded");
        File.Delete(Path.Combine(sharded, "model-00002-of-00002.safetensors"));
        e = Assert.Throws<UserInputException>(() => ModelCheckpoint.LoadNetwork(sharded));
        Assert.Contains("model-00002-of-00002.safetensors not found", e.Message);
    }

    [Theory]
    [InlineData("llama-gqa-untied-bf16-sharded")]
    [InlineData("qwen3-qknorm")]
    [InlineData("mistral-sliding-window")]
    public void Bf16Compute_StaysNearTheFp32ReferenceAndSavesAsBf16(string name)
    {
        var dir = ReferenceFixtures.Dir(name);
        var golden = ReferenceFixtures.Load(dir);
        using var net = ModelCheckpoint.LoadNetwork(dir, dtype: ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, net.DType);
        using (no_grad())
        {
            using var logits = net.Forward(ReferenceFixtures.Ids(golden.Prompts[0]));
            Assert.Equal(ScalarType.Float32, logits.dtype);
            // bf16 keeps 8 bits of mantissa: activations round at every layer, a few hundredths on logits of size ~5.
            var diff = ReferenceFixtures.MaxDiff(logits, golden.Logits[0]);
            Assert.True(diff < 0.15, $"{name}: bf16 max |logit diff| {diff}");
            Assert.True(diff > 1e-4, "bf16 compute should differ from fp32 a little; identical suggests it ran in fp32");
        }
        // The stored bf16 weights are exact in bf16: saving writes them back bit for bit, at 2 bytes each.
        var saved = TestSupport.TempDir();
        using var model = new LanguageModel(net, new Text.CompactChatTemplate());
        ModelCheckpoint.Save(model, saved);
        var header = Safetensors.ReadHeader(Path.Combine(saved, ModelCheckpoint.WeightsFile), out _);
        Assert.All(header.Values, e => Assert.Equal("BF16", e.Dtype));
        Assert.Equal("bfloat16", JsonNode.Parse(File.ReadAllText(Path.Combine(saved, "config.json")))!["torch_dtype"]!.GetValue<string>());
        using var original = ModelCheckpoint.LoadNetwork(dir);
        using var reloaded = ModelCheckpoint.LoadNetwork(saved);
        foreach (var (n, p) in original.Weights())
        {
            Assert.True(p.equal(reloaded.Weights()[n]).all().item<bool>(), n);
        }
    }
}
