using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>One tensor's entry in a safetensors header: dtype, shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Dtype, long[] Shape, long Begin, long End)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header (dtype, shape, byte offsets per
/// tensor), then raw little-endian data. Reads and writes F32, F16 and BF16, each tensor in its own dtype.
/// Every offset and size is checked against the file before data is read, so a truncated or corrupt file is a
/// user error naming the tensor, never a crash.
/// </summary>
public static class Safetensors
{
    /// <summary>The <c>__metadata__</c> strings and every tensor's entry, without reading the data.</summary>
    public static Dictionary<string, SafetensorsEntry> ReadHeader(string path, out Dictionary<string, string> metadata)
    {
        using var stream = OpenRead(path);
        return ReadCheckedHeader(stream, path, out _, out metadata);
    }

    // The header, with every entry's byte range and size checked against the file before any data is read.
    private static Dictionary<string, SafetensorsEntry> ReadCheckedHeader(FileStream stream, string path, out long dataStart,
        out Dictionary<string, string> metadata)
    {
        var entries = ReadHeader(stream, path, out dataStart, out metadata);
        var dataLength = stream.Length - dataStart;
        foreach (var (name, e) in entries)
        {
            if (e.Begin < 0 || e.End < e.Begin || e.End > dataLength)
            {
                throw new UserInputException($"{path}: tensor {name} lies outside the file's data (bytes {e.Begin}..{e.End} of {dataLength}): truncated or corrupt");
            }
            if (e.End - e.Begin != e.Count * ElementSize(e.Dtype, path, name))
            {
                throw new UserInputException($"{path}: tensor {name} has {e.End - e.Begin} bytes for shape [{string.Join(",", e.Shape)}] in {e.Dtype}");
            }
        }
        return entries;
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{path}: cannot be read ({e.Message})");
        }
    }

    private static Dictionary<string, SafetensorsEntry> ReadHeader(FileStream stream, string path, out long dataStart, out Dictionary<string, string> metadata)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8)
        {
            throw new UserInputException($"{path}: truncated safetensors file");
        }
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > stream.Length - 8)
        {
            throw new UserInputException($"{path}: invalid safetensors header length {headerLength}");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        dataStart = 8 + headerLength;
        JsonObject root;
        try
        {
            root = JsonNode.Parse(header) as JsonObject ?? throw new UserInputException($"{path}: safetensors header is not an object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: safetensors header is not valid JSON ({e.Message})");
        }
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var result = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, node) in root)
            {
                if (name == "__metadata__")
                {
                    foreach (var (k, v) in node as JsonObject ?? [])
                    {
                        metadata[k] = v?.GetValue<string>() ?? "";
                    }
                    continue;
                }
                if (node is not JsonObject o || o["data_offsets"] is not JsonArray { Count: 2 } offsets || o["shape"] is not JsonArray shape)
                {
                    throw new UserInputException($"{path}: header entry {name} lacks dtype, shape or data_offsets");
                }
                result[name] = new SafetensorsEntry(o["dtype"]?.GetValue<string>() ?? "", shape.Select(s => s!.GetValue<long>()).ToArray(),
                    offsets[0]!.GetValue<long>(), offsets[1]!.GetValue<long>());
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new UserInputException($"{path}: safetensors header has a value of the wrong type ({e.Message})");
        }
        return result;
    }

    private static int ElementSize(string dtype, string path, string name) => dtype switch
    {
        "F32" => 4,
        "BF16" or "F16" => 2,
        _ => throw new UserInputException($"{path}: tensor {name} has unsupported dtype {dtype} (F32, F16, BF16 are read)"),
    };

    /// <summary>
    /// The named tensors (all when <paramref name="names"/> is null), one at a time as CPU tensors in the file's
    /// dtype, owned by the caller. The bytes go straight from the file into the tensor's memory: a loader holds one
    /// tensor at a time and no managed copy of it.
    /// </summary>
    public static IEnumerable<(string Name, Tensor Tensor)> ReadEach(string path, IEnumerable<string>? names = null)
    {
        using var stream = OpenRead(path);
        var header = ReadCheckedHeader(stream, path, out var dataStart, out _);
        var wanted = names?.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, e) in header.OrderBy(kv => kv.Value.Begin))
        {
            if (wanted is not null && !wanted.Contains(name))
            {
                continue;
            }
            var t = empty(e.Shape, ScalarTypeOf(e.Dtype));
            stream.Position = dataStart + e.Begin;
            // safetensors is little-endian, as every platform libtorch runs on here.
            stream.ReadExactly(t.bytes);
            yield return (name, t);
        }
    }

    private static ScalarType ScalarTypeOf(string dtype) => dtype switch
    {
        "BF16" => ScalarType.BFloat16,
        "F16" => ScalarType.Float16,
        _ => ScalarType.Float32,
    };

    /// <summary>Reads the named tensors (all when <paramref name="names"/> is null) as CPU tensors in the file's dtypes.</summary>
    public static Dictionary<string, Tensor> Read(string path, IEnumerable<string>? names = null) =>
        ReadEach(path, names).ToDictionary(x => x.Name, x => x.Tensor, StringComparer.Ordinal);

    /// <summary>The safetensors dtype name of a tensor's dtype; other dtypes are written as F32.</summary>
    public static string DtypeName(ScalarType type) => type switch
    {
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        _ => "F32",
    };

    /// <summary>
    /// Writes the tensors (sorted by name), each in its own dtype (fp32, bf16 or fp16; anything else as fp32), to a
    /// temp file, then moves it into place.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is not null)
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata)
            {
                meta[k] = v;
            }
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var dtype = DtypeName(t.dtype);
            var size = t.numel() * (dtype == "F32" ? 4 : 2);
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        var padded = (headerBytes.Length + 7) / 8 * 8;
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(lengthBytes, padded);
            stream.Write(lengthBytes);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }
            foreach (var name in names)
            {
                var t = tensors[name];
                var type = ScalarTypeOf(DtypeName(t.dtype));
                // The tensor's own bytes, written as they are (one CPU copy at most: no managed array of them).
                using var cpu = (t.dtype == type ? t.detach() : t.detach().to(type)).cpu().contiguous();
                stream.Write(cpu.bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
