using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Generation;

/// <summary>Options of <see cref="GenerationService"/>: <see cref="MaxBatchSize"/> rows decoded together by each worker
/// (default 64, 1–4096); <see cref="Workers"/> decoding threads, each with its own running batch (default 1);
/// <see cref="Threads"/> torch threads per worker (default: the cores shared out among the workers, at least 1);
/// <see cref="PrefixSharing"/> (default on): identical prompts are prefilled once, within a join and from a cache of
/// <see cref="PrefixCacheTokens"/> recent prompt tokens per model, shared by the workers (default 4,096: 32 KB a token for
/// Llama-3.2-1B in bf16, 8 KB for the simulator's model; 0 keeps sharing within joins).</summary>
public sealed record GenerationServiceOptions : IValidatedOptions
{
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>
    /// Decoding threads. On a CPU a small model's step is a few hundred tiny kernels that one core runs as fast as
    /// two (OpenMP's hand-offs cost what the second core saves), so a worker per core, each on one torch thread,
    /// decodes up to twice as many tokens a second (engine/README.md, "Workers"). One on a GPU: one stream.
    /// </summary>
    public int Workers { get; init; } = 1;

    public int? Threads { get; init; }

    public bool PrefixSharing { get; init; } = true;

    public int PrefixCacheTokens { get; init; } = BatchDecoder.DefaultPrefixCacheTokens;

    /// <summary>Torch threads each worker uses: <see cref="Threads"/>, or the cores shared out among the workers.</summary>
    public int ThreadsPerWorker => Threads ?? Math.Max(1, Environment.ProcessorCount / Workers);

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange("max_batch_size", MaxBatchSize, 1, 4096)
        .InRange("workers", Workers, 1, 256)
        .Require(Threads is null or > 0, $"threads must be greater than 0 (got {Threads})")
        .Require(PrefixCacheTokens >= 0, $"prefix_cache_tokens must be 0 or more (got {PrefixCacheTokens})");
}

/// <summary>
/// Continuous batching for many concurrent callers: each decoding thread (a worker, see
/// <see cref="GenerationServiceOptions.Workers"/>) keeps a running batch per model version; each step it admits
/// waiting requests (its fair share of the queue, up to <see cref="GenerationServiceOptions.MaxBatchSize"/> rows, in
/// groups of at least <see cref="BatchDecoder.MinimumJoin"/> while more wait than fit, requests with one prompt kept
/// together so they share its prefill) and completes the ones that finished, so small requests from many grains keep
/// the batches full. Models sit in named slots (e.g. "actor" and "refiner"; <see cref="DefaultSlot"/> for a single
/// model) and share the workers.
/// <see cref="SwapModel(string, LanguageModel)"/> changes a slot atomically: requests submitted afterwards use the
/// new model, requests already submitted finish on the model they started with. The service never disposes models.
/// </summary>
public sealed class GenerationService : IAsyncDisposable, IDisposable
{
    private sealed record Pending(BatchDecoder.Row Row, TaskCompletionSource<GenerationResult> Completion, CancellationToken Token);

    private readonly GenerationServiceOptions _options;
    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private readonly Dictionary<LanguageModel, TaskCompletionSource> _retiring = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _stop = new();
    private readonly Worker[] _workers;
    private readonly Dictionary<string, LanguageModel> _slots = new(StringComparer.Ordinal);
    // One per model, shared by the workers' decoders: a prompt prefilled by one worker is a hit for the others.
    private readonly Dictionary<LanguageModel, PrefixCache> _prefixCaches = new(ReferenceEqualityComparer.Instance);
    private long _completed;

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
        _workers = [.. Enumerable.Range(0, _options.Workers).Select(i => new Worker(this, i))];
        foreach (var worker in _workers)
        {
            worker.Start();
        }
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

    /// <summary>Decoding steps run (summed over the workers), tokens generated and requests completed since start.</summary>
    public (long Steps, long Tokens, long Completed) Statistics =>
        (_workers.Sum(w => Interlocked.Read(ref w.Steps)), _workers.Sum(w => Interlocked.Read(ref w.Tokens)), Interlocked.Read(ref _completed));

    /// <summary>Decoding steps each worker has run since start.</summary>
    public IReadOnlyList<long> StepsPerWorker => [.. _workers.Select(w => Interlocked.Read(ref w.Steps))];

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
        Pending pending;
        lock (_gate)
        {
            pending = Prepare(Slot(slot), request, cancellationToken);
            _queue.Enqueue(pending);
        }
        Wake();
        return pending.Completion.Task;
    }

    private static Pending Prepare(LanguageModel model, GenerationRequest request, CancellationToken cancellationToken) =>
        new(BatchDecoder.Prepare(model, request, model), new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);

    /// <summary>
    /// Queues every request on the model in <paramref name="slot"/> at once, in order, so that requests with one prompt
    /// (a response's votes) stay next to each other whatever other callers submit meanwhile, and join one batch and
    /// one prefill; completes when all have finished. Bad values in any request throw before any is queued.
    /// </summary>
    public Task<GenerationResult[]> GenerateAllAsync(string slot, IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken = default) =>
        Task.WhenAll(SubmitAll(slot, requests, cancellationToken));

    /// <summary>
    /// As <see cref="GenerateAllAsync(string, IReadOnlyList{GenerationRequest}, CancellationToken)"/>, with a task per
    /// request (for progress as each finishes). With one worker and nothing else queued, which rows share each step
    /// then depends on the requests alone, not on when the worker woke, so the outputs repeat run after run.
    /// </summary>
    public IReadOnlyList<Task<GenerationResult>> SubmitAll(string slot, IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        var pending = new List<Pending>(requests.Count);
        lock (_gate)
        {
            var model = Slot(slot);
            pending.AddRange(requests.Select(request => Prepare(model, request, cancellationToken)));
            foreach (var p in pending)
            {
                _queue.Enqueue(p);
            }
        }
        if (pending.Count > 0)
        {
            Wake();
        }
        return [.. pending.Select(p => p.Completion.Task)];
    }

    /// <summary>As <see cref="GenerateAllAsync(string, IReadOnlyList{GenerationRequest}, CancellationToken)"/> on <see cref="DefaultSlot"/>.</summary>
    public Task<GenerationResult[]> GenerateAllAsync(IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken = default) =>
        GenerateAllAsync(DefaultSlot, requests, cancellationToken);

    /// <summary>
    /// Makes <paramref name="model"/> the model for every request submitted from now on. The returned task
    /// completes when no request uses the previous model any more (then the caller may dispose it).
    /// </summary>
    public Task SwapModel(LanguageModel model) => SwapModel(DefaultSlot, model);

    /// <summary>As <see cref="SwapModel(LanguageModel)"/> for <paramref name="slot"/> (a new slot is created).</summary>
    public Task SwapModel(string slot, LanguageModel model)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        lock (_gate)
        {
            _slots.TryGetValue(slot, out var previous);
            _slots[slot] = model;
            return Retire(previous);
        }
    }

    /// <summary>
    /// Removes <paramref name="slot"/>: requests submitted to it afterwards are refused, requests already submitted
    /// finish. The returned task completes when no request uses its model any more (then the caller may dispose it).
    /// </summary>
    public Task RemoveSlot(string slot)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        lock (_gate)
        {
            return _slots.Remove(slot, out var previous) ? Retire(previous) : Task.CompletedTask;
        }
    }

    // Under _gate. A model may sit in several slots: it is still served while any of them holds it.
    private bool Serves(LanguageModel model) => _slots.Values.Any(m => ReferenceEquals(m, model));

    // Under _gate: a model no slot serves any more retires once no worker holds it and nothing queued asks for it.
    private Task Retire(LanguageModel? previous)
    {
        if (previous is null || Serves(previous))
        {
            return Task.CompletedTask;
        }
        if (!_retiring.TryGetValue(previous, out var retired))
        {
            _retiring[previous] = retired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        // Every worker may hold a decoder of the previous model: each must look.
        Wake();
        return retired.Task;
    }

    // Each worker has its own signal: with one shared semaphore, one worker looping back to wait could take every
    // release meant for the others, and an idle worker holding a retired model's decoder would never let it go.
    private void Wake()
    {
        foreach (var worker in _workers)
        {
            worker.Wake();
        }
    }

    // Under _gate. A worker takes its fair share of the queue (the queued and running rows spread evenly over the
    // workers), at least a minimum join while more wait than fit, and the rest of a run of one prompt (a request's
    // votes) so that they share one prefill.
    private List<Pending> Take(int live)
    {
        var share = _workers.Length == 1
            ? _queue.Count
            : Math.Min(_queue.Count, Math.Max(1, (_queue.Count + _workers.Sum(w => w.Live) + _workers.Length - 1) / _workers.Length - live));
        var count = BatchDecoder.ToAdmit(live, share, _options.MaxBatchSize);
        if (count == 0)
        {
            return [];
        }
        var room = _options.MaxBatchSize - live;
        var take = 0;
        var runStart = 0;
        Pending? previous = null;
        foreach (var p in _queue)
        {
            var continues = previous is not null && SamePrompt(previous, p);
            if (take == room || (take >= count && !continues))
            {
                // With several workers, a prompt's run cut at the room's edge could be taken up by another worker
                // before this one has prefilled it, and be prefilled twice: the run waits whole for a later join when
                // something else was taken or rows still decode here (unless it is long enough to fill half a batch).
                if (take == room && continues && _workers.Length > 1
                    && (runStart > 0 || (live > 0 && take - runStart < _options.MaxBatchSize / 2)))
                {
                    take = runStart;
                }
                break;
            }
            runStart = continues ? runStart : take;
            previous = p;
            take++;
        }
        var taken = new List<Pending>(take);
        for (var i = 0; i < take; i++)
        {
            taken.Add(_queue.Dequeue());
        }
        return taken;
    }

    private static bool SamePrompt(Pending a, Pending b) =>
        ReferenceEquals(a.Row.Tag, b.Row.Tag) && PrefixCache.PromptComparer.Instance.Equals(a.Row.Prompt, b.Row.Prompt);

    // Under _gate. A retired model's decoders are disposed by the workers holding them once idle; the swap completes
    // when no worker holds one and nothing queued asks for it.
    private void RetireIdleModels(Worker worker)
    {
        foreach (var (model, retired) in _retiring.ToList())
        {
            if (Serves(model) || _queue.Any(p => ReferenceEquals(p.Row.Tag, model)))
            {
                continue;
            }
            if (worker.Decoders.TryGetValue(model, out var decoder) && decoder.Count == 0)
            {
                decoder.Dispose();
                worker.Decoders.Remove(model);
            }
            if (_workers.All(w => !w.Decoders.ContainsKey(model)))
            {
                if (_prefixCaches.Remove(model, out var prefixes))
                {
                    prefixes.Dispose();
                }
                _retiring.Remove(model);
                retired.TrySetResult();
            }
        }
    }

    /// <summary>One decoding thread and its running batches (a decoder per model version).</summary>
    private sealed class Worker(GenerationService service, int index)
    {
        private readonly Dictionary<BatchDecoder.Row, Pending> _tokenOf = [];
        private Thread? _running;

        /// <summary>Mutated under the service's gate (other workers read it when retiring a model).</summary>
        public Dictionary<LanguageModel, BatchDecoder> Decoders { get; } = new(ReferenceEqualityComparer.Instance);

        private readonly SemaphoreSlim _signal = new(0);

        /// <summary>Rows generating in this worker's batches; read by the others to share the queue out.</summary>
        public volatile int Live;

        public long Steps;

        public long Tokens;

        public void Start()
        {
            _running = new Thread(Run) { IsBackground = true, Name = $"spar-generation-{index}" };
            _running.Start();
        }

        public void Join() => _running?.Join();

        /// <summary>Makes an idle worker look at the queue and the retiring models again (one pending wake is enough).</summary>
        public void Wake()
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        private void Run()
        {
            Native.TorchRuntime.Configure(service._options.ThreadsPerWorker);
            var stop = service._stop;
            var pendingByModel = new Dictionary<LanguageModel, List<Pending>>(ReferenceEqualityComparer.Instance);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    int live;
                    lock (service._gate)
                    {
                        live = Decoders.Values.Sum(d => d.Count);
                        foreach (var p in service.Take(live))
                        {
                            var model = (LanguageModel)p.Row.Tag!;
                            if (!pendingByModel.TryGetValue(model, out var list))
                            {
                                pendingByModel[model] = list = [];
                                // Taken off the queue, a request no longer keeps its model from retiring: this worker's
                                // decoder for it must exist before the gate opens, or another worker may complete the
                                // swap and the model be disposed before these rows are admitted.
                                DecoderFor(model);
                            }
                            list.Add(p);
                        }
                        if (live == 0 && pendingByModel.Count == 0)
                        {
                            service.RetireIdleModels(this);
                        }
                    }
                    if (live == 0 && pendingByModel.Count == 0)
                    {
                        _signal.Wait(stop.Token);
                        continue;
                    }
                    foreach (var (model, list) in pendingByModel)
                    {
                        var joining = list.Where(p => !Cancel(p)).ToList();
                        foreach (var p in joining)
                        {
                            _tokenOf[p.Row] = p;
                        }
                        var decoder = DecoderFor(model);
                        Complete(Safely(decoder, () => decoder.Admit(joining.Select(p => p.Row).ToList())));
                    }
                    pendingByModel.Clear();
                    Live = Decoders.Values.Sum(d => d.Count);
                    foreach (var (model, decoder) in Decoders.ToList())
                    {
                        if (!Decoders.ContainsKey(model))
                        {
                            continue; // a failing batch dropped its decoder (Safely)
                        }
                        foreach (var row in decoder.RemoveWhere(r => _tokenOf.TryGetValue(r, out var p) && p.Token.IsCancellationRequested))
                        {
                            Cancel(_tokenOf[row]);
                            _tokenOf.Remove(row);
                            row.Random.Dispose();
                        }
                        if (decoder.Count > 0)
                        {
                            var rows = decoder.Count;
                            var finished = Safely(decoder, decoder.Step);
                            Interlocked.Increment(ref Steps);
                            Interlocked.Add(ref Tokens, rows);
                            Complete(finished);
                        }
                    }
                    Live = Decoders.Values.Sum(d => d.Count);
                    lock (service._gate)
                    {
                        service.RetireIdleModels(this);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                foreach (var p in _tokenOf.Values)
                {
                    p.Completion.TrySetCanceled();
                }
                lock (service._gate)
                {
                    foreach (var d in Decoders.Values)
                    {
                        d.Dispose();
                    }
                    Decoders.Clear();
                }
            }
        }

        private BatchDecoder DecoderFor(LanguageModel model)
        {
            lock (service._gate)
            {
                if (!Decoders.TryGetValue(model, out var decoder))
                {
                    var options = service._options;
                    PrefixCache? prefixes = null;
                    if (options.PrefixSharing && !service._prefixCaches.TryGetValue(model, out prefixes))
                    {
                        service._prefixCaches[model] = prefixes = new PrefixCache(options.PrefixCacheTokens);
                    }
                    Decoders[model] = decoder = new BatchDecoder(model, options.PrefixSharing, options.PrefixCacheTokens, service.PrefixSharing, prefixes);
                }
                return decoder;
            }
        }

        // A failing batch fails its own callers (this worker's rows of its model), not the service or the worker's other
        // batches: its decoder is dropped (rebuilt on demand), the other models' decoders and rows carry on.
        private List<BatchDecoder.Row> Safely(BatchDecoder decoder, Func<List<BatchDecoder.Row>> action)
        {
            try
            {
                return action();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var model = decoder.Model;
                lock (service._gate)
                {
                    // The decoder is this worker's one for its model (DecoderFor makes one only when there is none).
                    decoder.Dispose();
                    Decoders.Remove(model);
                }
                foreach (var (row, p) in _tokenOf.Where(t => ReferenceEquals(t.Key.Tag, model)).ToList())
                {
                    p.Completion.TrySetException(e);
                    _tokenOf.Remove(row);
                }
                return [];
            }
        }

        private void Complete(List<BatchDecoder.Row> finished)
        {
            foreach (var row in finished)
            {
                if (_tokenOf.Remove(row, out var p))
                {
                    p.Completion.TrySetResult(row.Result!);
                    Interlocked.Increment(ref service._completed);
                }
                row.Random.Dispose();
            }
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

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            foreach (var worker in _workers)
            {
                worker.Join();
            }
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
                foreach (var prefixes in _prefixCaches.Values)
                {
                    prefixes.Dispose();
                }
                _prefixCaches.Clear();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
