using SparOrleans.Core.Formats;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.OpenAi.Server;
using static TorchSharp.torch;

namespace SparOrleans.Client.Tests;

/// <summary>
/// A tiny saved model, a PEFT adapter for it with random (trained-looking) weights, and an <see cref="OpenAiServer"/>
/// serving the model on a free loopback port. Shared by a test class: loading and starting per test would dominate.
/// </summary>
public sealed class OpenAiFixture : IAsyncLifetime
{
    public const string ModelName = "tiny";

    /// <summary>The tiny model with the adapter merged in: a fresh model's greedy output is empty, this one's is not.</summary>
    public const string MixedName = "mixed";

    public string Root { get; } = Directory.CreateTempSubdirectory("spar-openai-").FullName;

    public string ModelDir => Path.Combine(Root, "model");

    public string AdapterDir => Path.Combine(Root, "adapter");

    public string MixedDir => Path.Combine(Root, "mixed");

    public LanguageModel Mixed { get; private set; } = null!;

    public LanguageModel Model { get; private set; } = null!;

    public OpenAiServer Server { get; private set; } = null!;

    public Uri BaseUrl => new(Server.Address, "v1/");

    public async Task InitializeAsync()
    {
        // One thread, as the server's decoding thread uses: results on 1 and 2 threads differ in the last bits.
        TorchRuntime.Configure(threads: 1);
        using (var model = LanguageModel.CreateByteLevel(32, 2, 2, seed: 1))
        {
            ModelCheckpoint.Save(model, ModelDir);
            LoraAdapters.Attach(model.Network, new LoraOptions(Rank: 4, Alpha: 8, Dropout: 0));
            using (no_grad())
            {
                manual_seed(7);
                foreach (var t in LoraAdapters.AdapterTensors(model.Network).Values)
                {
                    t.copy_(randn(t.shape) * 0.3);
                }
            }
            LoraAdapters.Save(model.Network, AdapterDir);
            LoraAdapters.Merge(model.Network);
            ModelCheckpoint.Save(model, MixedDir);
        }
        Model = ModelCheckpoint.Load(ModelDir, version: ModelName);
        Mixed = ModelCheckpoint.Load(MixedDir, version: MixedName);
        Server = await OpenAiServer.StartAsync(new Dictionary<string, LanguageModel> { [ModelName] = Model, [MixedName] = Mixed },
            new OpenAiServerOptions { Port = 0, Threads = 1 }, log: TextWriter.Null);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Model.Dispose();
        Mixed.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>What the engine itself generates for <paramref name="chat"/> on <paramref name="model"/>, one row at a time.</summary>
    public static GenerationResult EngineGenerate(LanguageModel model, IReadOnlyList<ChatMessage> chat, int maxTokens, double temperature = 0, long seed = 0)
    {
        TorchRuntime.Configure(threads: 1);
        var request = GenerationRequest.FromTokens(model.Template.Encode(chat).Tokens) with { MaxNewTokens = maxTokens, Temperature = temperature, Seed = seed };
        return BatchGenerator.Generate(model, [request], maxBatchSize: 1)[0];
    }
}
