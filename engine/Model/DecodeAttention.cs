using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// A decoding step's attention on the CPU in fp32, on the calling thread: one query per row and head over that row's
/// own cached columns (its left padding is skipped, not masked), written straight into the [B,1,heads·headDim]
/// layout the output projection reads. Why not SDPA: for a single query its CPU kernel runs a separate small
/// matrix-vector product per (row, head) through the dispatcher and reads every column of the padded cache; a run's
/// batches are about a third padding, and at batch 64 attention took as long as all the step's matmuls
/// (engine/README.md, issue #19's fifth pass). Only where torch runs one thread (the model host's decoding workers on
/// a CPU): with two, SDPA splits the rows over OpenMP's threads, and a second .NET thread here only fought OpenMP's
/// spinning one for the cores (a step 0.84–1.00× SDPA's). The arithmetic is fp32 throughout, vectorised per column,
/// with softmax's maximum subtracted first as SDPA does, so results differ from SDPA only by rounding order.
/// </summary>
internal static unsafe class DecodeAttention
{
    /// <summary>
    /// Off (<c>SPAR_DECODE_ATTENTION=sdpa</c> in the environment, or the benchmark's with/without rounds): every step
    /// uses SDPA, as before the kernel. Process-wide, read at each layer's step.
    /// </summary>
    internal static bool Enabled { get; set; } =
        !string.Equals(Environment.GetEnvironmentVariable("SPAR_DECODE_ATTENTION"), "sdpa", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a step's attention runs here: enabled, torch on one thread, and the tensors on the CPU in fp32 with one
    /// query and contiguous innermost dims.
    /// </summary>
    public static bool Serves(Tensor q, Tensor k, Tensor v) =>
        Enabled && torch.get_num_threads() == 1 && Fits(q, k, v);

    /// <summary>The tensors' part of <see cref="Serves"/> (the benchmark times the kernel whatever the threads).</summary>
    public static bool Fits(Tensor q, Tensor k, Tensor v) =>
        q.device_type == DeviceType.CPU && q.dtype == ScalarType.Float32 && k.dtype == ScalarType.Float32
        && v.dtype == ScalarType.Float32 && q.shape[2] == 1 && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;

    /// <param name="q">[B, heads, 1, headDim].</param>
    /// <param name="k">[B, kvHeads, S, headDim] (a view of the cache: any strides but the innermost).</param>
    /// <param name="v">As <paramref name="k"/>.</param>
    /// <param name="rowStarts">Each row's first real column (its left padding); null when no row is padded.</param>
    /// <returns>[B, 1, heads·headDim], each head's softmax(q·kᵀ/√headDim)·v over columns rowStarts[b]..S-1.</returns>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, IReadOnlyList<long>? rowStarts)
    {
        var (b, heads, headDim) = ((int)q.shape[0], (int)q.shape[1], (int)q.shape[3]);
        if (rowStarts is not null && rowStarts.Count != b)
        {
            throw new ArgumentException($"{rowStarts.Count} row starts for a batch of {b} rows", nameof(rowStarts));
        }
        var output = empty([b, 1, heads * headDim], ScalarType.Float32, q.device);
        var view = new Views(q, k, v, output, rowStarts);
        for (var unit = 0; unit < b * heads; unit++)
        {
            view.Unit(unit);
        }
        return output;
    }

    // TorchSharp 0.107 keeps its data pointer internal; this is the same export (the storage's data plus the view's
    // offset), from the library TorchSharp has already loaded.
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr tensor);

    private static float* Data(Tensor t) => (float*)THSTensor_data(t.Handle);

    // Raw views of the four tensors, alive for the call (the caller holds the tensors).
    private readonly struct Views
    {
        private readonly float* _q, _k, _v, _out;
        private readonly long _qRow, _qHead, _kRow, _kHead, _kColumn, _vRow, _vHead, _vColumn;
        private readonly int _heads, _groups, _headDim;
        private readonly long _columns;
        private readonly IReadOnlyList<long>? _starts;
        private readonly float _scale;

        public Views(Tensor q, Tensor k, Tensor v, Tensor output, IReadOnlyList<long>? starts)
        {
            var (heads, kvHeads, headDim, columns) = ((int)q.shape[1], (int)k.shape[1], (int)q.shape[3], k.shape[2]);
            _q = Data(q);
            _k = Data(k);
            _v = Data(v);
            _out = Data(output);
            (_qRow, _qHead) = (q.stride(0), q.stride(1));
            (_kRow, _kHead, _kColumn) = (k.stride(0), k.stride(1), k.stride(2));
            (_vRow, _vHead, _vColumn) = (v.stride(0), v.stride(1), v.stride(2));
            (_heads, _groups, _headDim, _columns, _starts) = (heads, heads / kvHeads, headDim, columns, starts);
            _scale = 1f / MathF.Sqrt(headDim);
        }

        // One (row, head): scores over the row's columns, softmax, the weighted sum of values. Compiled optimised at
        // once: a step calls it thousands of times from its first token, and tier-0 code ran a step slower than SDPA.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Unit(int unit)
        {
            var (row, head) = (unit / _heads, unit % _heads);
            var kvHead = head / _groups;
            var start = _starts?[row] ?? 0;
            var n = (int)(_columns - start);
            if (n <= 0)
            {
                // Every row ends in its new token; a start past it means the caller's padding went out of step.
                throw new InvalidOperationException($"Row {row} starts at column {start} of {_columns}: no column to attend to.");
            }
            var pooled = n > 2048 ? System.Buffers.ArrayPool<float>.Shared.Rent(n) : null;
            var scores = pooled is null ? stackalloc float[n] : pooled.AsSpan(0, n);
            var query = _q + row * _qRow + head * _qHead;
            var keys = _k + row * _kRow + kvHead * _kHead + start * _kColumn;
            var max = float.NegativeInfinity;
            for (var c = 0; c < n; c++)
            {
                var score = Dot(query, keys + c * _kColumn, _headDim) * _scale;
                scores[c] = score;
                max = MathF.Max(max, score);
            }
            var attended = _out + ((long)row * _heads + head) * _headDim;
            new Span<float>(attended, _headDim).Clear();
            var values = _v + row * _vRow + kvHead * _vHead + start * _vColumn;
            var sum = 0f;
            for (var c = 0; c < n; c++)
            {
                var weight = MathF.Exp(scores[c] - max);
                sum += weight;
                AddScaled(attended, values + c * _vColumn, weight, _headDim);
            }
            Scale(attended, 1f / sum, _headDim);
            if (pooled is not null)
            {
                System.Buffers.ArrayPool<float>.Shared.Return(pooled);
            }
        }
    }

    // A head's dot product and multiply-add, inlined into the column loops (a library call per 64 floats costs
    // about as much as the arithmetic).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int length)
    {
        var i = 0;
        var sum = 0f;
        if (Vector512.IsHardwareAccelerated && length >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= length - 16; i += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= length - 8; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale(float* target, float factor, int length)
    {
        for (var i = 0; i < length; i++)
        {
            target[i] *= factor;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(float* target, float* source, float weight, int length)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var w = Vector512.Create(weight);
            for (; i <= length - 16; i += 16)
            {
                Vector512.FusedMultiplyAdd(Vector512.Load(source + i), w, Vector512.Load(target + i)).Store(target + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256.Create(weight);
            for (; i <= length - 8; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.Load(source + i), w, Vector256.Load(target + i)).Store(target + i);
            }
        }
        for (; i < length; i++)
        {
            target[i] += weight * source[i];
        }
    }
}
