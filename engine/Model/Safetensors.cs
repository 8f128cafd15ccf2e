using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header (dtype, shape, byte offsets per
/// tensor), then raw little-endian data. Reads F32/F16/BF16 (converted to fp32); writes F32.
/// </summary>
public static class Safetensors
{
    /// <summary>Shapes and dtypes of every tensor in the file, without reading the data.</summary>
    public static Dictionary<string, (string Dtype, long[] Shape, long Begin, long End)> ReadHeader(string path, out long dataStart)
    {
        using var stream = File.OpenRead(path);
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
        var result = new Dictionary<string, (string, long[], long, long)>(StringComparer.Ordinal);
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__" || node is not JsonObject o)
            {
                continue;
            }
            var offsets = o["data_offsets"]!.AsArray();
            result[name] = (o["dtype"]!.GetValue<string>(), o["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray(),
                offsets[0]!.GetValue<long>(), offsets[1]!.GetValue<long>());
        }
        return result;
    }

    /// <summary>Reads the named tensors (all when <paramref name="names"/> is null) as fp32 CPU tensors.</summary>
    public static Dictionary<string, Tensor> Read(string path, IEnumerable<string>? names = null)
    {
        var header = ReadHeader(path, out var dataStart);
        var wanted = names?.ToHashSet() ?? [.. header.Keys];
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var stream = File.OpenRead(path);
        foreach (var (name, (dtype, shape, begin, end)) in header)
        {
            if (!wanted.Contains(name))
            {
                continue;
            }
            var bytes = new byte[end - begin];
            stream.Position = dataStart + begin;
            stream.ReadExactly(bytes);
            var count = shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[count];
            switch (dtype)
            {
                case "F32":
                    Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
                    break;
                case "BF16":
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) << 16);
                    }
                    break;
                case "F16":
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)));
                    }
                    break;
                default:
                    throw new UserInputException($"{path}: tensor {name} has unsupported dtype {dtype} (F32, F16, BF16 are read)");
            }
            if (bytes.Length != count * (dtype == "F32" ? 4 : 2))
            {
                throw new UserInputException($"{path}: tensor {name} has {bytes.Length} bytes for shape [{string.Join(",", shape)}]");
            }
            result[name] = tensor(values, shape);
        }
        return result;
    }

    /// <summary>Writes fp32 tensors (sorted by name) to a temp file, then moves it into place.</summary>
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
            var size = t.numel() * 4;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
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
                using var cpu = tensors[name].detach().to(ScalarType.Float32).cpu().contiguous();
                var data = cpu.data<float>().ToArray();
                var bytes = new byte[data.Length * 4];
                Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
                stream.Write(bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
