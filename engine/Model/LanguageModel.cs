using SparOrleans.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// A decoder together with the tokenizer and chat template it was trained with, on one device, under a version
/// label (generation reports which version produced each result). Owns the network: disposing frees it.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    public LanguageModel(LlamaForCausalLM network, IChatTemplate template, string version = "v0")
    {
        Network = network;
        Template = template;
        Version = version;
    }

    public LlamaForCausalLM Network { get; }

    public IChatTemplate Template { get; }

    public ITokenizer Tokenizer => Template.Tokenizer;

    public LlamaConfig Config => Network.Config;

    public string Version { get; set; }

    public Device Device => Network.Device;

    /// <summary>The directory the model was loaded from, if any: saving keeps a real model's tokenizer files from it.</summary>
    public string? SourceDirectory { get; init; }

    /// <summary>
    /// A fresh byte-level model with the compact template, initialised from <paramref name="seed"/> (the same seed
    /// gives the same weights). Defaults: the simulator's d=256, 4 layers, 4 heads.
    /// </summary>
    public static LanguageModel CreateByteLevel(int hiddenSize = 256, int layers = 4, int heads = 4, int kvHeads = 0,
        long seed = 0, string device = "cpu", string version = "v0") =>
        Create(new CompactChatTemplate(ByteTokenizer.Instance), hiddenSize, layers, heads, kvHeads, seed, device, version);

    /// <summary>
    /// A fresh model over <paramref name="template"/>'s tokenizer (e.g. a subword vocabulary from
    /// <see cref="SubwordTrainer"/>), initialised from <paramref name="seed"/>.
    /// </summary>
    public static LanguageModel Create(IChatTemplate template, int hiddenSize = 256, int layers = 4, int heads = 4, int kvHeads = 0,
        long seed = 0, string device = "cpu", string version = "v0")
    {
        Native.TorchRuntime.EnsureNativeLibraryPatched();
        var tok = template.Tokenizer;
        var config = LlamaConfig.Small(tok.VocabSize, hiddenSize, layers, heads, kvHeads, tok.BosId, tok.EosId);
        LlamaForCausalLM network;
        lock (SeedLock)
        {
            // The global generator is process-wide: hold it while initialising so concurrent creations stay reproducible.
            random.manual_seed(seed);
            network = new LlamaForCausalLM(config);
        }
        network.MoveTo(Native.TorchRuntime.ResolveDevice(device));
        return new LanguageModel(network, template, version);
    }

    internal static readonly object SeedLock = new();

    /// <summary>An independent deep copy (same weights, own tensors), e.g. the next version to train.</summary>
    public LanguageModel Clone(string? version = null)
    {
        var copy = new LlamaForCausalLM(Config, Network.DType, initialize: false);
        copy.MoveTo(Device);
        using (no_grad())
        {
            var source = Network.Weights();
            foreach (var (name, tensor) in copy.Weights())
            {
                tensor.copy_(source[name]);
            }
        }
        return new LanguageModel(copy, Template, version ?? Version) { SourceDirectory = SourceDirectory };
    }

    public void Dispose() => Network.Dispose();
}
