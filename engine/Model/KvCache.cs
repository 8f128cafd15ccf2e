using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// Keys and values of every layer, [B, kvHeads, S, headDim], aligned at the right: all rows end at the same column,
/// shorter rows are left padded (the caller keeps the matching [B,S] attention mask). The cache owns its tensors
/// (they outlive per-step dispose scopes) and frees replaced ones at once.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Columns held (cached positions including left padding).</summary>
    public long Length { get; private set; }

    public long BatchSize => _keys[0]?.shape[0] ?? 0;

    /// <summary>
    /// Writes the new keys and values after the used columns and returns views of everything cached. Buffers grow
    /// by doubling, so a decoding step copies only its own token instead of the whole cache.
    /// </summary>
    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[2];
        var needed = Length + t;
        if (_keys[layer] is null || _keys[layer]!.shape[2] < needed)
        {
            var capacity = Capacity(needed);
            Replace(layer, Grow(_keys[layer], k, capacity), Grow(_values[layer], v, capacity));
        }
        _keys[layer]!.narrow(2, Length, t).copy_(k);
        _values[layer]!.narrow(2, Length, t).copy_(v);
        return (_keys[layer]!.narrow(2, 0, needed), _values[layer]!.narrow(2, 0, needed));
    }

    private static long Capacity(long needed) => (Math.Max(needed, needed * 3 / 2) + 63) / 64 * 64;

    private Tensor Grow(Tensor? old, Tensor like, long capacity)
    {
        var buffer = zeros([like.shape[0], like.shape[1], capacity, like.shape[3]], like.dtype, like.device);
        if (old is not null && Length > 0)
        {
            buffer.narrow(2, 0, Length).copy_(old.narrow(2, 0, Length));
        }
        return buffer;
    }

    internal void Commit(long newTokens) => Length += newTokens;

    private void Replace(int layer, Tensor k, Tensor v)
    {
        k.DetachFromDisposeScope();
        v.DetachFromDisposeScope();
        if (!ReferenceEquals(_keys[layer], k))
        {
            _keys[layer]?.Dispose();
        }
        if (!ReferenceEquals(_values[layer], v))
        {
            _values[layer]?.Dispose();
        }
        _keys[layer] = k;
        _values[layer] = v;
    }

    /// <summary>Keeps only the given batch rows (finished rows leave the batch).</summary>
    public void SelectRows(Tensor rowIndices)
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            Replace(i, _keys[i]!.index_select(0, rowIndices), _values[i]!.index_select(0, rowIndices));
        }
    }

    /// <summary>Drops the first <paramref name="columns"/> columns (padding no row needs any more).</summary>
    public void TrimLeft(long columns)
    {
        if (columns <= 0)
        {
            return;
        }
        for (var i = 0; i < _keys.Length; i++)
        {
            Replace(i, Used(_keys[i]!, columns, Length - columns), Used(_values[i]!, columns, Length - columns));
        }
        Length -= columns;
    }

    /// <summary>
    /// Appends the rows of <paramref name="other"/> below this cache's rows, left padding whichever is shorter so
    /// both stay right aligned; returns the pads added to (this, other). <paramref name="other"/> is left empty.
    /// </summary>
    public (long PadThis, long PadOther) Merge(KvCache other)
    {
        if (BatchSize == 0)
        {
            for (var i = 0; i < _keys.Length; i++)
            {
                Replace(i, Used(other._keys[i]!, 0, other.Length), Used(other._values[i]!, 0, other.Length));
            }
            Length = other.Length;
            return (0, 0);
        }
        var length = Math.Max(Length, other.Length);
        var (padThis, padOther) = (length - Length, length - other.Length);
        for (var i = 0; i < _keys.Length; i++)
        {
            Replace(i, Stack(_keys[i]!, padThis, other._keys[i]!, padOther, length), Stack(_values[i]!, padThis, other._values[i]!, padOther, length));
        }
        Length = length;
        return (padThis, padOther);
    }

    // This cache's used columns above the other's, each right aligned at `length`, in a buffer with room to grow:
    // one copy of each part, where concatenating and then growing at the next step copied everything twice more.
    private Tensor Stack(Tensor mine, long padMine, Tensor theirs, long padTheirs, long length)
    {
        var rows = mine.shape[0] + theirs.shape[0];
        var fresh = zeros([rows, mine.shape[1], Capacity(length + 1), mine.shape[3]], mine.dtype, mine.device);
        fresh.narrow(0, 0, mine.shape[0]).narrow(2, padMine, Length).copy_(mine.narrow(2, 0, Length));
        var otherLength = length - padTheirs;
        fresh.narrow(0, mine.shape[0], theirs.shape[0]).narrow(2, padTheirs, otherLength).copy_(theirs.narrow(2, 0, otherLength));
        return fresh;
    }

    // A fresh buffer holding columns [start, start+count) with room to grow.
    private static Tensor Used(Tensor buffer, long start, long count)
    {
        var fresh = zeros([buffer.shape[0], buffer.shape[1], Capacity(count + 1), buffer.shape[3]], buffer.dtype, buffer.device);
        fresh.narrow(2, 0, count).copy_(buffer.narrow(2, start, count));
        return fresh;
    }

    /// <summary>
    /// Copies of the last <paramref name="length"/> columns of <paramref name="row"/> in every layer, [1, kvHeads,
    /// length, headDim]: a right-aligned row's own tokens when <paramref name="length"/> is its prompt's length.
    /// </summary>
    internal (Tensor[] Keys, Tensor[] Values) CopyRow(long row, long length)
    {
        var keys = new Tensor[_keys.Length];
        var values = new Tensor[_keys.Length];
        for (var i = 0; i < _keys.Length; i++)
        {
            keys[i] = _keys[i]!.narrow(0, row, 1).narrow(2, Length - length, length).clone().DetachFromDisposeScope();
            values[i] = _values[i]!.narrow(0, row, 1).narrow(2, Length - length, length).clone().DetachFromDisposeScope();
        }
        return (keys, values);
    }

    /// <summary>
    /// A cache of <paramref name="rows"/>.Count rows, each given as per-layer keys and values [1, kvHeads, length,
    /// headDim] (rows may share the same tensors), right aligned at the longest: how a shared prompt's prefill is
    /// handed to every request that asked for it.
    /// </summary>
    internal static KvCache FromRows(IReadOnlyList<(Tensor[] Keys, Tensor[] Values)> rows)
    {
        var layers = rows[0].Keys.Length;
        var length = rows.Max(r => r.Keys[0].shape[2]);
        var cache = new KvCache(layers);
        for (var i = 0; i < layers; i++)
        {
            cache.Replace(i, Gather(rows, i, keys: true, length), Gather(rows, i, keys: false, length));
        }
        cache.Length = length;
        return cache;
    }

    private static Tensor Gather(IReadOnlyList<(Tensor[] Keys, Tensor[] Values)> rows, int layer, bool keys, long length)
    {
        var like = keys ? rows[0].Keys[layer] : rows[0].Values[layer];
        var buffer = zeros([rows.Count, like.shape[1], Capacity(length + 1), like.shape[3]], like.dtype, like.device);
        for (var r = 0; r < rows.Count; r++)
        {
            var part = keys ? rows[r].Keys[layer] : rows[r].Values[layer];
            var own = part.shape[2];
            buffer.narrow(0, r, 1).narrow(2, length - own, own).copy_(part);
        }
        return buffer;
    }

    public void Dispose()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
        Length = 0;
    }
}
