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

    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var newK = _keys[layer] is { } oldK ? cat([oldK, k], 2) : k.alias();
        var newV = _values[layer] is { } oldV ? cat([oldV, v], 2) : v.alias();
        Replace(layer, newK, newV);
        return (newK, newV);
    }

    internal void Commit(long newTokens) => Length += newTokens;

    private void Replace(int layer, Tensor k, Tensor v)
    {
        k.DetachFromDisposeScope();
        v.DetachFromDisposeScope();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
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
            Replace(i, _keys[i]!.narrow(2, columns, Length - columns).contiguous(), _values[i]!.narrow(2, columns, Length - columns).contiguous());
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
                Replace(i, other._keys[i]!.alias(), other._values[i]!.alias());
            }
            Length = other.Length;
            return (0, 0);
        }
        var length = Math.Max(Length, other.Length);
        var (padThis, padOther) = (length - Length, length - other.Length);
        for (var i = 0; i < _keys.Length; i++)
        {
            Replace(i, cat([LeftPad(_keys[i]!, padThis), LeftPad(other._keys[i]!, padOther)], 0),
                cat([LeftPad(_values[i]!, padThis), LeftPad(other._values[i]!, padOther)], 0));
        }
        Length = length;
        return (padThis, padOther);
    }

    private static Tensor LeftPad(Tensor x, long columns) =>
        columns == 0 ? x : nn.functional.pad(x, [0, 0, columns, 0]);

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
