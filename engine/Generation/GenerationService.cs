using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Generation;

/// <summary>Options of <see cref="GenerationService"/>: <see cref="MaxBatchSize"/> rows decoded together (default 64, 1–4096);
/// <see cref="Threads"/> torch threads for the decoding thread (default: all cores); <see cref="PrefixSharing"/>
/// (default on): identical prompts are prefilled once, within a join and from a cache of
/// <see cref="PrefixCacheTokens"/> recent prompt tokens per model (default 4,096: 32 KB a token for Llama-3.2-1B in bf16,
/// 8 KB for the simulator's model; 0 keeps sharing within joins).</summary>
public sealed record GenerationServiceOptions : IValidatedOptions
{
    public int MaxBatchSize { get; init; } = 64;

    public int? Threads { get; init; }

    public bool PrefixSharing { get; init; } = true;

    public int PrefixCacheTokens { get; init; } = BatchDecoder.DefaultPrefixCacheTokens;

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange("max_batch_size", MaxBatchSize, 1, 4096)
        .Require(Threads is null or > 0, $"threads must be greater than 0 (got {Threads})")
        .Require(PrefixCacheTokens >= 0, $"prefix_cache_tokens must be 0 or more (got {PrefixCacheTokens})");
}

/// <summary>
/// Continuous batching for many concurrent callers: one decoding thread keeps a running batch per model version;
/// each step it admits waiting requests (up to <see cref="GenerationServiceOptions.MaxBatchSize"/> rows in all, in
/// groups of at least <see cref="BatchDecoder.MinimumJoin"/> while more wait than fit)
/// and completes the ones that finished, so small requests from many grains keep the batch full. Models sit in
/// named slots (e.g. "actor" and "refiner"; <see cref="DefaultSlot"/> for a single model) and share the thread.
/// <see cref="SwapModel(string, LanguageModel)"/> changes a slot atomically: requests submitted afterwards use the
/// new model, requests already submitted finish on the model they started with. The service never disposes models.
/// </summary>
public sealed class GenerationService : IAsyncDisposable, IDisposable
{
    private sealed record Pending(BatchDecoder.Row Row, TaskCompletionSource<GenerationResult> Completion, CancellationToken Token);

    private readonly GenerationServiceOptions _options;
    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private readonly Dictionary<LanguageModel, BatchDecoder> _decoders = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<LanguageModel, TaskCompletionSource> _retiring = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private readonly Dictionary<string, LanguageModel> _slots = new(StringComparer.Ordinal);
    private long _steps, _tokens, _completed;

    /// <summary>The slot used by the overloads without one.</summary>
    public const string DefaultSlot = "default";

    /// <summary>Serves one model in <see cref="DefaultSlot"/>.</summary>
    public GenerationService(LanguageModel model, GenerationServiceOptions? options = null)
        : this(new Dictionary<string, LanguageModel> { [DefaultSlot] = model }, options)
    {
    }

    /// <summary>Serves one model per named slot.</summary>
    public GenerationService(IReadOnlyDictionary<string, LanguageModel> models, GenerationServiceOptions? options = null)
    {
        _options = (options ?? new GenerationServiceOptions()).Validated();
        if (models.Count == 0)
        {
            throw new ArgumentException("at least one model is needed", nameof(models));
        }
        foreach (var (slot, model) in models)
        {
            _slots[slot] = model;
        }
        _worker = new Thread(Run) { IsBackground = true, Name = "spar-generation" };
        _worker.Start();
    }

    /// <summary>The model that new requests to <see cref="DefaultSlot"/> use.</summary>
    public LanguageModel CurrentModel => ModelIn(DefaultSlot);

    /// <summary>The model that new requests to <paramref name="slot"/> use.</summary>
    public LanguageModel ModelIn(string slot)
    {
        lock (_gate)
        {
            return Slot(slot);
        }
    }

    private LanguageModel Slot(string slot) =>
        _slots.TryGetValue(slot, out var model) ? model : throw new ArgumentException($"no model in slot '{slot}'", nameof(slot));

    /// <summary>Prefix sharing since start, over every model served: rows admitted, hits (rows not prefilled for themselves), hit rate, prompt tokens prefilled.</summary>
    public PrefixStatistics PrefixSharing { get; } = new();

    /// <summary>Decoding steps run, tokens generated and requests completed since start.</summary>
    public (long Steps, long Tokens, long Completed) Statistics => (Interlocked.Read(ref _steps), Interlocked.Read(ref _tokens), Interlocked.Read(ref _completed));

    /// <summary>
    /// Queues a request on the current model and completes when it finishes. Bad request values throw
    /// <see cref="InvalidOptionsException"/> at once; cancelling removes the row at the next step.
    /// </summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        GenerateAsync(DefaultSlot, request, cancellationToken);

    /// <summary>As <see cref="GenerateAsync(GenerationRequest, CancellationToken)"/>, on the model in <paramref name="slot"/>.</summary>
    public Task<GenerationResult> GenerateAsync(string slot, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        var completion = new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var model = Slot(slot);
            var row = BatchDecoder.Prepare(model, request, model);
            _queue.Enqueue(new Pending(row, completion, cancellationToken));
        }
        _signal.Release();
        return completion.Task;
    }

    /// <summary>
    /// Makes <paramref name="model"/> the model for every request submitted from now on. The returned task
    /// completes when no request uses the previous model any more (then the caller may dispose it).
    /// </summary>
    public Task SwapModel(LanguageModel model) => SwapModel(DefaultSlot, model);

    /// <summary>As <see cref="SwapModel(LanguageModel)"/> for <paramref name="slot"/> (a new slot is created).</summary>
    public Task SwapModel(string slot, LanguageModel model)
    {
        TaskCompletionSource retired;
        lock (_gate)
        {
            if (!_slots.TryGetValue(slot, out var previous))
            {
                _slots[slot] = model;
                return Task.CompletedTask;
            }
            if (ReferenceEquals(previous, model))
            {
                return Task.CompletedTask;
            }
            _slots[slot] = model;
            if (!_retiring.TryGetValue(previous, out retired!))
            {
                retired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _retiring[previous] = retired;
            }
        }
        _signal.Release();
        return retired.Task;
    }

    private void Run()
    {
        Native.TorchRuntime.Configure(_options.Threads);
        var pendingByModel = new Dictionary<LanguageModel, List<Pending>>(ReferenceEqualityComparer.Instance);
        var tokenOf = new Dictionary<BatchDecoder.Row, Pending>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int active;
                lock (_gate)
                {
                    active = _decoders.Values.Sum(d => d.Count);
                    var room = BatchDecoder.ToAdmit(active, _queue.Count, _options.MaxBatchSize);
                    while (_queue.Count > 0 && room > 0)
                    {
                        var p = _queue.Dequeue();
                        var model = (LanguageModel)p.Row.Tag!;
                        if (!pendingByModel.TryGetValue(model, out var list))
                        {
                            pendingByModel[model] = list = [];
                        }
                        list.Add(p);
                        room--;
                    }
                }
                if (active == 0 && pendingByModel.Count == 0)
                {
                    RetireIdleModels();
                    _signal.Wait(_stop.Token);
                    continue;
                }
                foreach (var (model, list) in pendingByModel)
                {
                    var live = list.Where(p => !Cancel(p)).ToList();
                    foreach (var p in live)
                    {
                        tokenOf[p.Row] = p;
                    }
                    if (!_decoders.TryGetValue(model, out var decoder))
                    {
                        _decoders[model] = decoder = new BatchDecoder(model, _options.PrefixSharing, _options.PrefixCacheTokens, PrefixSharing);
                    }
                    Complete(Safely(() => decoder.Admit(live.Select(p => p.Row).ToList()), tokenOf), tokenOf);
                }
                pendingByModel.Clear();
                foreach (var decoder in _decoders.Values.ToList())
                {
                    foreach (var row in decoder.RemoveWhere(r => tokenOf.TryGetValue(r, out var p) && p.Token.IsCancellationRequested))
                    {
                        Cancel(tokenOf[row]);
                        tokenOf.Remove(row);
                        row.Random.Dispose();
                    }
                    if (decoder.Count > 0)
                    {
                        var rows = decoder.Count;
                        var finished = Safely(decoder.Step, tokenOf);
                        Interlocked.Increment(ref _steps);
                        Interlocked.Add(ref _tokens, rows);
                        Complete(finished, tokenOf);
                    }
                }
                RetireIdleModels();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var p in tokenOf.Values)
            {
                p.Completion.TrySetCanceled();
            }
            foreach (var d in _decoders.Values)
            {
                d.Dispose();
            }
        }
    }

    // A failing batch fails its own callers, not the service: the decoder is dropped and rebuilt on demand.
    private List<BatchDecoder.Row> Safely(Func<List<BatchDecoder.Row>> action, Dictionary<BatchDecoder.Row, Pending> tokenOf)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            foreach (var (model, decoder) in _decoders.ToList())
            {
                decoder.Dispose();
                _decoders.Remove(model);
            }
            foreach (var p in tokenOf.Values)
            {
                p.Completion.TrySetException(e);
            }
            tokenOf.Clear();
            return [];
        }
    }

    private void Complete(List<BatchDecoder.Row> finished, Dictionary<BatchDecoder.Row, Pending> tokenOf)
    {
        foreach (var row in finished)
        {
            if (tokenOf.Remove(row, out var p))
            {
                p.Completion.TrySetResult(row.Result!);
                Interlocked.Increment(ref _completed);
            }
            row.Random.Dispose();
        }
    }

    private static bool Cancel(Pending p)
    {
        if (!p.Token.IsCancellationRequested)
        {
            return false;
        }
        p.Completion.TrySetCanceled(p.Token);
        return true;
    }

    private void RetireIdleModels()
    {
        lock (_gate)
        {
            foreach (var (model, retired) in _retiring.ToList())
            {
                var busy = (_decoders.TryGetValue(model, out var d) && d.Count > 0) || _queue.Any(p => ReferenceEquals(p.Row.Tag, model));
                if (!busy && !_slots.Values.Any(m => ReferenceEquals(m, model)))
                {
                    if (_decoders.Remove(model, out var decoder))
                    {
                        decoder.Dispose();
                    }
                    _retiring.Remove(model);
                    retired.TrySetResult();
                }
            }
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            _worker.Join();
            lock (_gate)
            {
                foreach (var p in _queue)
                {
                    p.Completion.TrySetCanceled();
                }
                _queue.Clear();
                foreach (var retired in _retiring.Values)
                {
                    retired.TrySetResult();
                }
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
