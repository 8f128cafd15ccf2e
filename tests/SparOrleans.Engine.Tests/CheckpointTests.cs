using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Text;
using SparOrleans.Tests.Shared;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Tests;

public class CheckpointTests
{
    private static Tensor Logits(LanguageModel model)
    {
        using var noGrad = no_grad();
        var ids = tensor(Enumerable.Range(0, 10).Select(i => (long)(i * 31 % 256)).ToArray(), [1, 10]);
        return model.Network.Forward(ids);
    }

    [Fact]
    public void SaveThenLoad_HfDirectory_ReproducesLogitsExactly()
    {
        using var model = TestSupport.TinyModel(kvHeads: 2);
        model.Version = "v7";
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal("llama", config["model_type"]!.GetValue<string>());
        Assert.Equal(2, config["num_key_value_heads"]!.GetValue<int>());
        using var loaded = ModelCheckpoint.Load(dir);
        Assert.Equal("v7", loaded.Version);
        Assert.Equal("compact", loaded.Template.Name);
        using var a = Logits(model);
        using var b = Logits(loaded);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void Load_ShardedIndexWithHfExtras_LoadsSameWeights()
    {
        using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 5);
        using var untied = new LanguageModel(new LlamaForCausalLM(model.Config with { TieWordEmbeddings = false }), model.Template);
        var dir = TestSupport.TempDir();
        var tensors = untied.Network.Weights().ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value);
        var names = tensors.Keys.OrderBy(n => n).ToList();
        var first = names.Take(names.Count / 2).ToDictionary(n => n, n => tensors[n]);
        var second = names.Skip(names.Count / 2).ToDictionary(n => n, n => tensors[n]);
        // HF checkpoints carry rotary buffers that a strict load must skip.
        second["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(8);
        Safetensors.Write(Path.Combine(dir, "model-00001-of-00002.safetensors"), first);
        Safetensors.Write(Path.Combine(dir, "model-00002-of-00002.safetensors"), second);
        var map = new JsonObject();
        foreach (var n in first.Keys)
        {
            map[n] = "model-00001-of-00002.safetensors";
        }
        foreach (var n in second.Keys)
        {
            map[n] = "model-00002-of-00002.safetensors";
        }
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), new JsonObject { ["weight_map"] = map }.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "config.json"), untied.Config.ToHfJson());
        using var loaded = ModelCheckpoint.Load(dir);
        using var a = Logits(untied);
        using var b = Logits(loaded);
        Assert.True(a.equal(b).all().item<bool>());
    }

    [Fact]
    public void Load_MissingAndMismatchedTensors_RefusedNamingThem()
    {
        using var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 5);
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        var weights = Path.Combine(dir, "model.safetensors");
        var tensors = Safetensors.Read(weights);
        tensors.Remove("model.layers.1.mlp.up_proj.weight");
        tensors["model.norm.weight"] = ones(16);
        Safetensors.Write(weights, tensors);
        var e = Assert.Throws<UserInputException>(() => ModelCheckpoint.Load(dir));
        Assert.Contains("missing tensors: model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains("model.norm.weight (checkpoint [16], model [32])", e.Message);
    }

    [Fact]
    public void Load_NotAModelDirectory_UserInputError()
    {
        var e = Assert.Throws<UserInputException>(() => ModelCheckpoint.Load(TestSupport.TempDir()));
        Assert.Contains("config.json", e.Message);
    }

    private static string TinyTokenizerJson() => TinyTokenizer.Json("h e", "l l", "he ll", "Ġ w", "o r");

    [Fact]
    public void HfBpeTokenizer_TokenizerJson_RoundTripsAndRendersLlama3Template()
    {
        var tok = HfBpeTokenizer.Parse(TinyTokenizerJson(), "tokenizer.json");
        var ids = tok.Encode("hello world, ünïcode!");
        Assert.Equal("hello world, ünïcode!", tok.Decode(ids));
        Assert.True(ids.Count < "hello world, ünïcode!".Length + 10);
        var template = new Llama3ChatTemplate(tok);
        var chat = template.Encode([new ChatMessage("user", " hi ")], "hello");
        Assert.Equal(tok.SpecialId("<|begin_of_text|>"), chat.Tokens[0]);
        Assert.Equal(tok.SpecialId("<|eot_id|>"), chat.Tokens[^1]);
        Assert.Equal("hello", tok.Decode(chat.Tokens.Where((t, i) => chat.TargetMask[i])));
        Assert.Equal("userhiassistant", tok.Decode(chat.Tokens.Take(chat.PromptLength)).Replace("\n", ""));
    }

    [Fact]
    public void SaveThenLoad_BpeModel_WritesTokenizerJsonAndLoadsBack()
    {
        var tok = HfBpeTokenizer.Parse(TinyTokenizerJson(), "tokenizer.json");
        var config = LlamaConfig.Small(tok.VocabSize, 32, 1, 2, bos: tok.BosId, eos: tok.EosId);
        using var model = new LanguageModel(new LlamaForCausalLM(config), new Llama3ChatTemplate(tok));
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        Assert.True(File.Exists(Path.Combine(dir, "tokenizer.json")));
        using var loaded = ModelCheckpoint.Load(dir);
        Assert.Equal("llama3", loaded.Template.Name);
        Assert.Equal(model.Template.Encode([new ChatMessage("user", "hello")]).Tokens, loaded.Template.Encode([new ChatMessage("user", "hello")]).Tokens);
    }

    [Fact]
    public void CompactTemplate_PromptAndTarget_MarksOnlyTargetTokens()
    {
        var template = new CompactChatTemplate();
        var chat = template.Encode([new ChatMessage("user", "Write 2 letters a")], "aa");
        Assert.Equal(1 + 17 + 1 + 1 + 2 + 1, chat.Tokens.Length);
        Assert.Equal(20, chat.PromptLength);
        Assert.Equal(new[] { false, true, true, true }, chat.TargetMask[19..]);
        Assert.Equal(ByteTokenizer.Instance.EosId, chat.Tokens[^1]);
        Assert.Equal("Write 2 letters aaa", ByteTokenizer.Instance.Decode(chat.Tokens));
    }
}

public class SubwordTrainerTests
{
    private static IEnumerable<string> Corpus()
    {
        string[] animals = ["fox", "owl", "otter", "badger", "heron"];
        string[] places = ["river", "forest", "meadow", "garden"];
        for (var i = 0; i < 200; i++)
        {
            yield return $"Write a sentence about a {animals[i % 5]} that ends with the word {places[i % 4]}.";
            yield return $"The quiet {animals[(i + 2) % 5]} walks near the {places[(i + 1) % 4]}.";
        }
    }

    [Fact]
    public void Train_SimulatorLikeCorpus_ShortensAndRoundTripsLosslessly()
    {
        var tok = SubwordTrainer.Train(Corpus(), merges: 128);
        const string text = "Write a sentence about a heron that ends with the word garden. Ünseen wörds, too!";
        var ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.True(ids.Count < 0.6 * System.Text.Encoding.UTF8.GetByteCount(text), $"{ids.Count} tokens");
        var again = SubwordTrainer.Train(Corpus(), merges: 128);
        Assert.Equal(tok.Json, again.Json);
    }

    [Fact]
    public void CompactTemplate_OverTrainedSubwords_GeneratesAndSavesWithTokenizerJson()
    {
        var tok = SubwordTrainer.Train(Corpus(), merges: 64);
        var config = LlamaConfig.Small(tok.VocabSize, 32, 1, 2, bos: tok.BosId, eos: tok.EosId);
        using var model = new LanguageModel(new LlamaForCausalLM(config), new CompactChatTemplate(tok));
        var chat = model.Template.Encode([new ChatMessage("user", "The quiet fox")], "walks");
        Assert.Equal(tok.SpecialId("<|user|>"), chat.Tokens[0]);
        Assert.Equal(tok.EosId, chat.Tokens[^1]);
        var dir = TestSupport.TempDir();
        ModelCheckpoint.Save(model, dir);
        using var loaded = ModelCheckpoint.Load(dir);
        Assert.Equal("compact", loaded.Template.Name);
        Assert.Equal(chat.Tokens, loaded.Template.Encode([new ChatMessage("user", "The quiet fox")], "walks").Tokens);
    }
}
