using SparOrleans.Core.Formats;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;

namespace SparOrleans.Models.Generation;

/// <summary>
/// A model directory loaded in-process behind a continuous-batching <see cref="GenerationService"/>: the thin
/// generation path evaluation and bootstrap sampling use. Owns both the model and the service.
/// </summary>
public sealed class ModelRunner : IAsyncDisposable, IDisposable
{
    private readonly GenerationService _service;
    private bool _disposed;

    private ModelRunner(LanguageModel model, GenerationService service)
    {
        Model = model;
        _service = service;
    }

    public LanguageModel Model { get; }

    /// <summary>Loads <paramref name="modelDir"/> (a PEFT adapter directory: its base with the adapter) on <paramref name="device"/>.</summary>
    public static ModelRunner Load(string modelDir, string device, int maxBatchSize, int threads, TorchSharp.torch.ScalarType? dtype = null)
    {
        var model = ModelCheckpoint.LoadModelOrAdapter(modelDir, device, dtype: dtype);
        return new ModelRunner(model, new GenerationService(model,
            new GenerationServiceOptions { MaxBatchSize = maxBatchSize, Threads = threads }));
    }

    /// <summary>One generation; the text with the template's end of turn removed.</summary>
    public async Task<string> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        (await _service.GenerateAsync(request, cancellationToken).ConfigureAwait(false)).Text;

    /// <summary>
    /// Generates a continuation of every prompt, in order. Request i is seeded with <paramref name="seed"/> + i, and
    /// all are queued at once (one worker), so the batches, and with them a sampled set, repeat exactly: queued one by
    /// one, the decoding thread could start on the first few while the rest were still arriving, and the batches
    /// (whose rounding flips sampled tokens) depended on when it woke.
    /// </summary>
    public async Task<IReadOnlyList<string>> GenerateAllAsync(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, double temperature,
        int maxNewTokens, long seed, IProgress<StepProgress>? progress = null, string phase = "generation",
        CancellationToken cancellationToken = default)
    {
        var done = 0;
        var requests = prompts.Select((p, i) => new GenerationRequest(p) { Temperature = temperature, MaxNewTokens = maxNewTokens, Seed = seed + i }).ToList();
        var tasks = _service.SubmitAll(GenerationService.DefaultSlot, requests, cancellationToken).Select(async task =>
        {
            var text = (await task.ConfigureAwait(false)).Text;
            progress?.Report(new StepProgress(phase, Interlocked.Increment(ref done), prompts.Count));
            return text;
        }).ToList();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _service.Dispose();
        Model.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
