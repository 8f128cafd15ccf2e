using static TorchSharp.torch;

namespace SparOrleans.Engine.Generation;

/// <summary>
/// Prompts prefilled recently, by exact token match, with the keys and values of every layer and the logits of
/// their last position: a request whose whole prompt is here needs no prefill (vLLM's automatic prefix caching,
/// for whole prompts). Judging asks several votes on one prompt and sampling K answers to one instruction; those
/// arrive together or shortly after each other. Bounded by <see cref="CapacityTokens"/> cached prompt tokens,
/// least recently used first out. One per model: a decoder's own, or the service's, shared by the decoders of its
/// workers (thread safe: an entry found is leased until <see cref="Release"/>, and one evicted meanwhile is freed by its
/// last user), so an entry never outlives its weights; a model changed in place while served would be answered from
/// stale entries, which is why the service's contract is to swap in a trained clone.
/// </summary>
internal sealed class PrefixCache : IDisposable
{
    internal sealed class Entry(int[] tokens, Tensor[] keys, Tensor[] values, Tensor logits) : IDisposable
    {
        public int[] Tokens { get; } = tokens;

        /// <summary>Per layer [1, kvHeads, prompt length, headDim].</summary>
        public Tensor[] Keys { get; } = keys;

        public Tensor[] Values { get; } = values;

        /// <summary>[vocab] fp32: the logits after the prompt's last token, from which each request samples its first.</summary>
        public Tensor Logits { get; } = logits;

        public long LastUse { get; set; }

        /// <summary>Leases taken by <see cref="Find"/> and not yet released (under the cache's lock).</summary>
        public int Users { get; set; }

        /// <summary>Out of the cache while leased: the last <see cref="Release"/> frees it.</summary>
        public bool Evicted { get; set; }

        public void Dispose()
        {
            foreach (var t in Keys.Concat(Values).Append(Logits))
            {
                t.Dispose();
            }
        }
    }

    internal sealed class PromptComparer : IEqualityComparer<int[]>
    {
        public static readonly PromptComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(int[] tokens)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tokens.AsSpan()));
            return hash.ToHashCode();
        }
    }

    private readonly Dictionary<int[], Entry> _entries = new(PromptComparer.Instance);
    private readonly Lock _lock = new();
    private long _tokens;
    private long _clock;

    public PrefixCache(long capacityTokens) => CapacityTokens = capacityTokens;

    public long CapacityTokens { get; }

    /// <summary>Prompt tokens held now.</summary>
    public long Tokens
    {
        get
        {
            lock (_lock)
            {
                return _tokens;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// The entry for exactly <paramref name="prompt"/>, marked as just used and leased to the caller until it calls
    /// <see cref="Release"/>; null when absent.
    /// </summary>
    public Entry? Find(int[] prompt)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(prompt, out var entry))
            {
                return null;
            }
            entry.LastUse = ++_clock;
            entry.Users++;
            return entry;
        }
    }

    /// <summary>Ends a lease of <see cref="Find"/>: an entry evicted meanwhile is freed by its last user.</summary>
    public void Release(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.Users == 0 && entry.Evicted)
            {
                entry.Dispose();
            }
        }
    }

    /// <summary>
    /// Keeps <paramref name="entry"/> (the cache owns it from now on), evicting the least recently used until it
    /// fits; an entry larger than the whole capacity, or a prompt already held (another worker prefilled it too), is
    /// disposed at once.
    /// </summary>
    public void Add(Entry entry)
    {
        lock (_lock)
        {
            if (entry.Tokens.Length > CapacityTokens || _entries.ContainsKey(entry.Tokens))
            {
                entry.Dispose();
                return;
            }
            while (_tokens + entry.Tokens.Length > CapacityTokens)
            {
                var oldest = _entries.Values.MinBy(e => e.LastUse)!;
                _entries.Remove(oldest.Tokens);
                _tokens -= oldest.Tokens.Length;
                if (oldest.Users == 0)
                {
                    oldest.Dispose();
                }
                else
                {
                    oldest.Evicted = true;
                }
            }
            entry.LastUse = ++_clock;
            _entries[entry.Tokens] = entry;
            _tokens += entry.Tokens.Length;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var entry in _entries.Values)
            {
                entry.Dispose();
            }
            _entries.Clear();
            _tokens = 0;
        }
    }
}

/// <summary>
/// Counts of prefix sharing, cumulative and safe to read from any thread: rows admitted, rows whose prompt was
/// not prefilled for them (an identical prompt in the same join or in the <see cref="PrefixCache"/>), prompt
/// tokens admitted and prompt tokens actually prefilled.
/// </summary>
public sealed class PrefixStatistics
{
    private long _rows, _hits, _promptTokens, _prefilledTokens;

    public long Rows => Interlocked.Read(ref _rows);

    public long Hits => Interlocked.Read(ref _hits);

    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    public long PrefilledTokens => Interlocked.Read(ref _prefilledTokens);

    /// <summary>Hits per admitted row (0 before any row).</summary>
    public double HitRate => Rows == 0 ? 0 : (double)Hits / Rows;

    internal void Record(long rows, long hits, long promptTokens, long prefilledTokens)
    {
        Interlocked.Add(ref _rows, rows);
        Interlocked.Add(ref _hits, hits);
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _prefilledTokens, prefilledTokens);
    }
}
