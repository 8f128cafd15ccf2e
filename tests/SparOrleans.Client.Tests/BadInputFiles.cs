using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SparOrleans.Engine.Model;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The bad inputs <see cref="BadInputWalkTests"/> hands to every verb, made once: broken files of every kind, model
/// directories with corrupt weights, homes whose stored state is corrupt, a closed port and a port in use.
/// </summary>
public sealed class BadInputFiles : IDisposable
{
    private readonly TcpListener _busy;

    public BadInputFiles()
    {
        Directory.CreateDirectory(Files);
        Write("empty.jsonl", "");
        Write("malformed.json", "{\"prompt\": \"a\", ");
        Write("malformed.jsonl", "{\"prompt\": \"Write a poem.\", \"response\": \"x\"}\n{\"prompt\": ");
        Write("truncated.jsonl", "{\"prompt\": \"Write a poem.\", \"response\": \"x\"}\n{\"prompt\": \"Write a so");
        Write("wrong-shape.json", "[1, 2, 3]");
        Write("wrong-shape.jsonl", "[1, 2, 3]\n\"text\"\n");
        Write("prompts.jsonl", "{\"prompt\": \"Write a poem about the sea.\"}\n{\"prompt\": \"Write a letter to a friend.\"}\n");
        Write("ifeval-input.jsonl", "{\"key\": 1, \"prompt\": \"Write a poem.\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}]}\n");
        Write("responses.jsonl", "{\"prompt\": \"Write a poem.\", \"response\": \"a poem\"}\n");
        Write("opt-dpo-null.json", "{\"Dpo\": null}");
        Write("opt-device-tpu.json", "{\"Device\": \"tpu\"}");
        Write("opt-threads-huge.json", "{\"Threads\": 100000}");
        Write("opt-threads-negative.json", "{\"Threads\": -3}");
        Write("opt-seed-string.json", "{\"Seed\": \"abc\"}");
        Write("opt-unknown.json", "{\"Bogus\": 1}");
        Write("opt-lr-negative.json", "{\"Dpo\": {\"LearningRate\": -1}}");
        Write("opt-nested-null.json", "{\"Dpo\": {\"LearningRate\": null}}");
        Write("opt-huge-number.json", "{\"Seed\": 1e400}");
        var garbage = new byte[4096];
        new Random(17).NextBytes(garbage);
        File.WriteAllBytes(Path.Combine(Files, "binary.bin"), garbage);
        Directory.CreateDirectory(Path.Combine(Files, "a-directory"));
        Directory.CreateDirectory(Path.Combine(Files, "empty-model"));

        using (var model = LanguageModel.CreateByteLevel(32, 1, 2, seed: 1))
        {
            ModelCheckpoint.Save(model, Model);
        }
        var weights = File.ReadAllBytes(Path.Combine(Model, ModelCheckpoint.WeightsFile));
        var headerEnd = 8 + (int)BitConverter.ToUInt64(weights, 0);
        CorruptModel("model-truncated", ModelCheckpoint.WeightsFile, weights[..(headerEnd + (weights.Length - headerEnd) / 2)]);
        CorruptModel("model-bad-header-length", ModelCheckpoint.WeightsFile, [.. BitConverter.GetBytes(ulong.MaxValue / 2), .. weights[8..]]);
        CorruptModel("model-bad-header-json", ModelCheckpoint.WeightsFile, [.. weights[..8], .. Enumerable.Repeat((byte)'{', headerEnd - 8), .. weights[headerEnd..]]);
        CorruptModel("model-binary", ModelCheckpoint.WeightsFile, garbage);
        CorruptModel("model-empty-weights", ModelCheckpoint.WeightsFile, []);
        CorruptModel("model-bad-config", ModelCheckpoint.ConfigFile, "{\"hidden_size\": "u8.ToArray());
        CorruptModel("model-bad-tokenizer", ModelCheckpoint.TokenizerConfigFile, garbage);
        CorruptModel("adapter-bad", "adapter_config.json", "{\"base_model_name_or_path\": "u8.ToArray());

        // LLMBar folders: one file malformed, one binary.
        Write("llmbar-malformed/Natural.json", "[{\"input\": ");
        Directory.CreateDirectory(Path.Combine(Files, "llmbar-binary"));
        File.WriteAllBytes(Path.Combine(Files, "llmbar-binary", "Natural.json"), garbage);
        Directory.CreateDirectory(Path.Combine(Files, "llmbar-empty"));

        WriteHome("home-corrupt-run", "broken", run: "\"etag-1\"\n{\"Spec\": {\"RunId\": ", prompt: null);
        WriteHome("home-binary-run", "broken", run: System.Text.Encoding.Latin1.GetString(garbage), prompt: null);
        WriteHome("home-corrupt-prompt", "r1", run: null, prompt: "{\"Phase\": \"Judged\", \"Prompt\": {\"Id\": ");
        WriteHome("home-binary-prompt", "r1", run: null, prompt: System.Text.Encoding.Latin1.GetString(garbage));

        // A port that nothing listens on (taken and given back at once), and one held until the walk ends.
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        ClosedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        _busy = new TcpListener(IPAddress.Loopback, 0);
        _busy.Start();
        BusyPort = ((IPEndPoint)_busy.LocalEndpoint).Port;
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("spar-badwalk-").FullName;

    /// <summary>Shared, read-only inputs: no case may change anything under it.</summary>
    public string Files => Path.Combine(Root, "files");

    public string Model => Path.Combine(Files, "model");

    public int ClosedPort { get; }

    public int BusyPort { get; }

    public void Dispose()
    {
        _busy.Stop();
        _busy.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    private void Write(string name, string text)
    {
        var path = Path.Combine(Files, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A copy of the tiny model with <paramref name="file"/> replaced by <paramref name="bytes"/>.</summary>
    private void CorruptModel(string name, string file, byte[] bytes)
    {
        var dir = Path.Combine(Files, name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Model))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }
        File.WriteAllBytes(Path.Combine(dir, file), bytes);
    }

    /// <summary>
    /// A home holding run <paramref name="runId"/> stored as the run grain stores it (iteration 1 started with one
    /// prompt), its run state or its prompt's state replaced by <paramref name="run"/> / <paramref name="prompt"/>.
    /// </summary>
    private void WriteHome(string name, string runId, string? run, string? prompt)
    {
        var state = Path.Combine(Files, name, ".state");
        var options = SimulatorOptions.Tiny with { Seed = 1 };
        var spec = new RunSpec(runId, Path.Combine(Files, name, runId), 1, 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
        var runState = new RunGrain.RunState
        {
            Spec = spec,
            Status = RunStatusKind.Running,
            Phase = RunPhase.Sampling,
            Iteration = 1,
            PromptIds = [["p0"]],
            Created = DateTimeOffset.UtcNow,
            Updated = DateTimeOffset.UtcNow,
        };
        var store = new DirectoryBlobStore(state);
        store.EnsureContainerAsync(default).GetAwaiter().GetResult();
        var runBlob = $"state/run/{runId}.json";
        var promptBlob = BlobGrainStorage.BlobName("state", Orleans.Runtime.GrainId.Create("prompt", PromptKeys.Prompt(runId, 1, "p0")));
        store.WriteAsync(runBlob, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(runState, BlobGrainStorage.StateJson)), null, default).GetAwaiter().GetResult();
        store.WriteAsync(promptBlob, BinaryData.FromString("{}"), null, default).GetAwaiter().GetResult();
        if (run is not null)
        {
            File.WriteAllText(Path.Combine(state, runBlob), run, System.Text.Encoding.Latin1);
        }
        if (prompt is not null)
        {
            File.WriteAllText(Path.Combine(state, promptBlob), "\"etag-1\"\n" + prompt, System.Text.Encoding.Latin1);
        }
    }
}
