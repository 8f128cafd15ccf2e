using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Generation;

/// <summary>
/// A running batch for one model: rows join (prefilled together, then merged into the right-aligned KV cache) and
/// leave as they finish, so the batch can be kept full. Not thread safe: one thread drives it.
/// </summary>
internal sealed class BatchDecoder : IDisposable
{
    internal sealed class Row(GenerationRequest request, int[] prompt, object? tag)
    {
        public GenerationRequest Request { get; } = request;
        public int[] Prompt { get; } = prompt;
        public object? Tag { get; } = tag;
        public List<int> Generated { get; } = [];
        public Generator Random { get; } = new((ulong)request.Seed);
        public GenerationResult? Result { get; set; }
        public bool Cancelled { get; set; }

        private readonly float[] _uniforms = new float[64];
        private int _next = 64;

        /// <summary>The next draw of this request's own stream: fetched 64 at a time to keep per-step calls few.</summary>
        public float NextUniform()
        {
            if (_next == _uniforms.Length)
            {
                using var draws = rand(_uniforms.Length, generator: Random);
                draws.data<float>().CopyTo(_uniforms);
                _next = 0;
            }
            return _uniforms[_next++];
        }
    }

    /// <summary>Prompt tokens a decoder keeps for whole-prompt reuse unless told otherwise (see <see cref="PrefixCache"/>).</summary>
    public const int DefaultPrefixCacheTokens = 4_096;

    private static readonly Scalar One = 1L.ToScalar();

    private readonly LanguageModel _model;
    private readonly List<Row> _rows = [];
    private readonly KvCache _cache;
    private readonly HashSet<int> _stopIds;
    private readonly PrefixCache? _prefixes;
    // Left padding of each row, kept on the host: it changes only when rows join or leave, so a step over a batch
    // without padding (every batch of one, every batch of equal prompts) needs no mask at all, and compaction finds
    // the columns no row needs without reading a tensor back.
    private readonly List<long> _pads = [];
    private Tensor? _padTensor;  // [B,1] int64 copy of _pads; null when no row is padded
    private Tensor? _lastTokens; // [B,1] the token each row feeds next
    private Tensor? _positions;  // [B,1] int64: the position of that token (real tokens before it)

    /// <param name="prefixSharing">
    /// Identical prompts are prefilled once and their keys and values copied to each row: within one join, and
    /// across joins through a cache of <paramref name="prefixCacheTokens"/> recent prompt tokens (0: within joins).
    /// </param>
    /// <param name="sharedPrefixes">A prefix cache of this model that other decoders use too (the decoder does not own it); null: its own.</param>
    public BatchDecoder(LanguageModel model, bool prefixSharing = true, int prefixCacheTokens = DefaultPrefixCacheTokens,
        PrefixStatistics? statistics = null, PrefixCache? sharedPrefixes = null)
    {
        _model = model;
        _cache = new KvCache(model.Config.NumHiddenLayers);
        _stopIds = [.. model.Template.StopTokenIds];
        _ownsPrefixes = sharedPrefixes is null;
        _prefixes = prefixSharing ? sharedPrefixes ?? new PrefixCache(prefixCacheTokens) : null;
        Statistics = statistics ?? new PrefixStatistics();
    }

    private readonly bool _ownsPrefixes;

    /// <summary>Prefix sharing counts of this decoder (or of the service that passed its own).</summary>
    public PrefixStatistics Statistics { get; }

    public LanguageModel Model => _model;

    /// <summary>Rows still generating (finished rows may linger in the batch until the next compaction).</summary>
    public int Count => _live;

    private int _live;

    /// <summary>
    /// Smallest number of waiting requests worth a join when more are queued than fit: a join re-lays the whole KV
    /// cache out (compaction, merge), so admitting one row per finished row made those copies dominate decoding.
    /// </summary>
    public static int MinimumJoin(int maxBatchSize) => Math.Max(1, maxBatchSize / 8);

    /// <summary>
    /// How many of <paramref name="waiting"/> requests to admit into a batch of <paramref name="live"/> generating
    /// rows: none until the room reaches <see cref="MinimumJoin"/> (or holds every waiting request), all that fit
    /// once it does, and at once when the batch is idle.
    /// </summary>
    public static int ToAdmit(int live, int waiting, int maxBatchSize)
    {
        var room = maxBatchSize - live;
        if (waiting <= 0 || room <= 0)
        {
            return 0;
        }
        return live == 0 || room >= Math.Min(waiting, MinimumJoin(maxBatchSize)) ? Math.Min(room, waiting) : 0;
    }

    public long CacheColumns => _cache.Length;

    /// <summary>
    /// The network forward of the last <see cref="Step"/> (the benchmark's step profile). On a CPU the forward has
    /// finished when it returns; on a GPU this is launch time only.
    /// </summary>
    public double LastForwardMilliseconds { get; private set; }

    /// <summary>Renders and validates a request; throws <see cref="InvalidOptionsException"/> for bad values.</summary>
    public static Row Prepare(LanguageModel model, GenerationRequest request, object? tag = null)
    {
        request.Validated();
        var prompt = request.PromptTokenIds is { } ids ? [.. ids] : model.Template.Encode(request.Prompt).Tokens;
        var vocab = model.Config.VocabSize;
        if (Array.FindIndex(prompt, id => id < 0 || id >= vocab) is var bad and >= 0)
        {
            throw new InvalidOptionsException(nameof(GenerationRequest),
                [$"prompt token id {prompt[bad]} is outside the model's vocabulary (0–{vocab - 1})"]);
        }
        if (prompt.Length + request.MaxNewTokens > model.Config.MaxPositionEmbeddings)
        {
            throw new InvalidOptionsException(nameof(GenerationRequest),
                [$"prompt ({prompt.Length} tokens) plus max_new_tokens ({request.MaxNewTokens}) exceeds the model's {model.Config.MaxPositionEmbeddings} positions"]);
        }
        return new Row(request, prompt, tag);
    }

    /// <summary>
    /// Prefills the rows as one left-padded batch (each distinct prompt once when sharing), samples their first
    /// tokens, and adds them to the batch.
    /// </summary>
    public List<Row> Admit(IReadOnlyList<Row> joining)
    {
        if (joining.Count == 0)
        {
            return [];
        }
        if (_live < _rows.Count)
        {
            Compact();
        }
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var device = _model.Device;
        var (fresh, logits, prefilled) = _prefixes is null ? PrefillEach(joining) : PrefillShared(joining);
        Tensor first;
        using (fresh)
        {
            first = Sample(logits, joining);
            var width = fresh.Length;
            var (padThis, padOther) = _cache.Merge(fresh);
            for (var r = 0; r < _pads.Count; r++)
            {
                _pads[r] += padThis;
            }
            _pads.AddRange(joining.Select(row => width - row.Prompt.Length + padOther));
            var positions = tensor(joining.Select(row => (long)row.Prompt.Length).ToArray(), [joining.Count, 1], device: device);
            SetState(
                _lastTokens is null ? first.unsqueeze(1) : cat([_lastTokens, first.unsqueeze(1)], 0),
                _positions is null ? positions : cat([_positions, positions], 0));
        }
        Statistics.Record(joining.Count, joining.Count - prefilled.Rows, joining.Sum(r => (long)r.Prompt.Length), prefilled.Tokens);
        _rows.AddRange(joining);
        _live += joining.Count;
        return Record(first, _rows.Count - joining.Count);
    }

    // Every row prefilled for itself: a left-padded batch of all the prompts.
    private (KvCache Cache, Tensor Logits, (int Rows, long Tokens) Prefilled) PrefillEach(IReadOnlyList<Row> rows)
    {
        var cache = new KvCache(_model.Config.NumHiddenLayers);
        var logits = Prefill(rows.Select(r => r.Prompt).ToList(), cache);
        return (cache, logits, (rows.Count, rows.Sum(r => (long)r.Prompt.Length)));
    }

    // Distinct prompts not in the prefix cache are prefilled together; every row then gets its prompt's keys,
    // values and last logits, copied from that prefill or from the cache.
    private (KvCache Cache, Tensor Logits, (int Rows, long Tokens) Prefilled) PrefillShared(IReadOnlyList<Row> rows)
    {
        var entries = new PrefixCache.Entry?[rows.Count];
        var missing = new List<int[]>();
        var missingIndex = new Dictionary<int[], int>(PrefixCache.PromptComparer.Instance);
        for (var r = 0; r < rows.Count; r++)
        {
            var prompt = rows[r].Prompt;
            entries[r] = _prefixes!.Find(prompt);
            if (entries[r] is null && missingIndex.TryAdd(prompt, missing.Count))
            {
                missing.Add(prompt);
            }
        }
        try
        {
            var created = new List<PrefixCache.Entry>();
            if (missing.Count > 0)
            {
                using var prefill = new KvCache(_model.Config.NumHiddenLayers);
                var logits = Prefill(missing, prefill);
                for (var u = 0; u < missing.Count; u++)
                {
                    var (keys, values) = prefill.CopyRow(u, missing[u].Length);
                    created.Add(new PrefixCache.Entry(missing[u], keys, values, logits[u].clone().DetachFromDisposeScope()));
                }
            }
            var sources = entries.Select((e, r) => e ?? created[missingIndex[rows[r].Prompt]]).ToList();
            var cache = KvCache.FromRows(sources.Select(e => (e.Keys, e.Values)).ToList());
            var rowLogits = stack(sources.Select(e => e.Logits).ToArray(), 0);
            // Added only now: eviction may dispose entries this join has just read.
            foreach (var entry in created)
            {
                _prefixes!.Add(entry);
            }
            return (cache, rowLogits, (missing.Count, missing.Sum(p => (long)p.Length)));
        }
        finally
        {
            // Leases end whatever happened: an entry another worker evicted meanwhile is freed here.
            foreach (var found in entries)
            {
                if (found is not null)
                {
                    _prefixes!.Release(found);
                }
            }
        }
    }

    // Logits [n, vocab] after each prompt's last token, the prompts prefilled as one left-padded batch into `cache`.
    private Tensor Prefill(IReadOnlyList<int[]> prompts, KvCache cache)
    {
        var device = _model.Device;
        var width = prompts.Max(p => p.Length);
        var ids = new long[prompts.Count * width];
        var maskValues = new long[prompts.Count * width];
        for (var r = 0; r < prompts.Count; r++)
        {
            var p = prompts[r];
            var offset = r * width + width - p.Length;
            for (var i = 0; i < p.Length; i++)
            {
                ids[offset + i] = p[i];
                maskValues[offset + i] = 1;
            }
        }
        var input = tensor(ids, [prompts.Count, width], device: device);
        var mask = tensor(maskValues, [prompts.Count, width], device: device);
        return _model.Network.Forward(input, mask, cache, lastOnly: true).squeeze(1);
    }

    /// <summary>One decoding step for every row; returns the rows that finished (they leave the batch at the next compaction).</summary>
    public List<Row> Step()
    {
        if (_live == 0)
        {
            return [];
        }
        // Inference mode, not only no_grad: no version counters or view tracking on the ~200 small ops of a step
        // (measured 10% less CPU per step at batch 1). What a step makes stays in the decoder, except the model's rotary
        // tables, which training may read later: reading an inference tensor is allowed (GenerationTests).
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        // Column c of row r is real when c >= the row's padding (the new token's column included).
        var valid = _padTensor is null ? null : arange(_cache.Length + 1, ScalarType.Int64, _model.Device).unsqueeze(0).ge(_padTensor);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var logits = _model.Network.DecodeStep(_lastTokens!, _positions!, valid, _cache, _pads).squeeze(1);
        LastForwardMilliseconds = clock.Elapsed.TotalMilliseconds;
        var next = Sample(logits, _rows);
        SetState(next.unsqueeze(1), _positions!.add(One));
        return Record(next, 0);
    }

    /// <summary>Marks rows whose tag satisfies <paramref name="cancelled"/> as finished; returns them.</summary>
    public List<Row> RemoveWhere(Func<Row, bool> cancelled)
    {
        using var inference = inference_mode();
        var gone = _rows.Where(r => Generating(r) && cancelled(r)).ToList();
        foreach (var row in gone)
        {
            row.Cancelled = true;
        }
        _live -= gone.Count;
        CompactIfSparse();
        return gone;
    }

    private List<Row> Record(Tensor tokens, int firstRow)
    {
        var values = tokens.cpu().data<long>().ToArray();
        var finished = new List<Row>();
        for (var i = 0; i < values.Length; i++)
        {
            var row = _rows[firstRow + i];
            if (!Generating(row))
            {
                continue;
            }
            var token = (int)values[i];
            var request = row.Request;
            if (request.StopAtEndOfTurn && _stopIds.Contains(token))
            {
                row.Result = Finish(row, FinishReason.EndOfTurn, null);
            }
            else
            {
                row.Generated.Add(token);
                if (request.StopStrings.Count > 0 && FindStop(row) is { } cut)
                {
                    row.Result = Finish(row, FinishReason.StopString, cut);
                }
                else if (row.Generated.Count >= request.MaxNewTokens)
                {
                    row.Result = Finish(row, FinishReason.Length, null);
                }
            }
            if (row.Result is not null)
            {
                finished.Add(row);
            }
        }
        _live -= finished.Count;
        CompactIfSparse();
        return finished;
    }

    private string? FindStop(Row row)
    {
        var text = _model.Tokenizer.Decode(row.Generated);
        var cut = -1;
        foreach (var stop in row.Request.StopStrings)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }
        return cut < 0 ? null : text[..cut];
    }

    private GenerationResult Finish(Row row, FinishReason reason, string? text) =>
        new(text ?? _model.Tokenizer.Decode(row.Generated), [.. row.Generated], reason, row.Prompt.Length, _model.Version);

    private static bool Generating(Row row) => row.Result is null && !row.Cancelled;

    // Finished rows keep decoding (their tokens are ignored) until a quarter of the batch is done or rows join:
    // a step over a few idle rows costs far less than copying the cache at every finish.
    private void CompactIfSparse()
    {
        var done = _rows.Count - _live;
        if (done > 0 && (_live == 0 || done * 4 >= _rows.Count))
        {
            Compact();
        }
    }

    // Drops finished/cancelled rows from the cache, mask and next tokens, and the padding columns no row needs.
    private void Compact()
    {
        var keep = Enumerable.Range(0, _rows.Count).Where(i => _rows[i].Result is null && !_rows[i].Cancelled).ToArray();
        _rows.RemoveAll(r => r.Result is not null || r.Cancelled);
        var pads = keep.Select(i => _pads[i]).ToList();
        _pads.Clear();
        if (keep.Length == 0)
        {
            _cache.Dispose();
            SetState(null, null);
            return;
        }
        using var scope = NewDisposeScope();
        var index = tensor(keep.Select(i => (long)i).ToArray(), device: _model.Device);
        _cache.SelectRows(index);
        // Leading columns that are padding in every remaining row carry nothing: trim them so attention stays short.
        var lead = pads.Min();
        _cache.TrimLeft(lead);
        _pads.AddRange(pads.Select(p => p - lead));
        SetState(_lastTokens!.index_select(0, index), _positions!.index_select(0, index));
    }

    private void SetState(Tensor? last, Tensor? positions)
    {
        _lastTokens = Keep(_lastTokens, last);
        _positions = Keep(_positions, positions);
        var padded = _pads.Any(p => p > 0);
        _padTensor?.Dispose();
        _padTensor = padded ? tensor(_pads.ToArray(), [_pads.Count, 1], device: _model.Device).DetachFromDisposeScope() : null;
    }

    // The batch state outlives each step's dispose scope: the new tensor is detached from it, the old one freed.
    private static Tensor? Keep(Tensor? old, Tensor? fresh)
    {
        var kept = fresh?.contiguous().DetachFromDisposeScope();
        if (!ReferenceEquals(old, kept))
        {
            old?.Dispose();
        }
        return kept;
    }

    /// <summary>
    /// Next tokens [B] from logits [B,V]: greedy rows take the argmax; the others sample from temperature- and
    /// top-p-filtered probabilities by inverting the CDF at a uniform draw from the row's own generator.
    /// </summary>
    private static Tensor Sample(Tensor logits, IReadOnlyList<Row> rows)
    {
        var n = rows.Count;
        var greedy = logits.argmax(-1);
        if (rows.All(r => r.Request.Temperature == 0))
        {
            return greedy;
        }
        var device = logits.device;
        var temps = new float[n];
        var topP = new float[n];
        var uniform = new float[n];
        var isGreedy = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var r = rows[i].Request;
            // A finished row lingering in the batch draws nothing: its generator may already be disposed.
            isGreedy[i] = r.Temperature == 0 || !Generating(rows[i]);
            temps[i] = isGreedy[i] ? 1f : (float)r.Temperature;
            topP[i] = (float)r.TopP;
            // Every row draws every step, so a row's stream depends only on its own seed and step count.
            uniform[i] = Generating(rows[i]) ? rows[i].NextUniform() : 0;
        }
        var probs = (logits.to(ScalarType.Float32) / tensor(temps, [n, 1], device: device)).softmax(-1);
        var (sorted, order) = probs.sort(-1, descending: true);
        var cumulative = sorted.cumsum(-1);
        // Keep the smallest prefix whose mass reaches top_p (the first token always survives).
        var keep = (cumulative - sorted).lt(tensor(topP, [n, 1], device: device));
        var kept = sorted * keep;
        var cdf = kept.cumsum(-1);
        var target = tensor(uniform, [n, 1], device: device) * cdf.narrow(1, cdf.shape[1] - 1, 1);
        // A Scalar owned here: an implicit conversion would leave its native handle to the finalizer.
        using var lastIndex = (cdf.shape[1] - 1).ToScalar();
        var choice = searchsorted(cdf, target, right: true).clamp_max(lastIndex);
        var sampled = order.gather(1, choice).squeeze(1);
        return where(tensor(isGreedy, device: device), greedy, sampled);
    }

    public void Dispose()
    {
        _cache.Dispose();
        if (_ownsPrefixes)
        {
            _prefixes?.Dispose();
        }
        _pads.Clear();
        SetState(null, null);
        foreach (var row in _rows)
        {
            row.Random.Dispose();
        }
    }
}
