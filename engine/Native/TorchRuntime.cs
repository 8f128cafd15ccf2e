using System.Runtime.CompilerServices;
using TorchSharp;

namespace SparOrleans.Engine.Native;

/// <summary>
/// Makes TorchSharp loadable and reproducible. The shipped libLibTorchSharp.so asks for GLIBCXX_3.4.32, which
/// Debian 12's libstdc++ lacks; the one symbol bound to it is a link-only anchor, so marking that version
/// requirement weak in the copy beside TorchSharp.dll lets the loader accept it (shared/notes/torchsharp.md).
/// The patch runs from a module initializer, so every process that touches the engine (tests, client, silo) fixes
/// its own output copy before its first torch call.
/// </summary>
public static class TorchRuntime
{
    /// <summary>Version requirements that are safe to weaken: bound only to symbols without relocations.</summary>
    internal static readonly IReadOnlySet<string> WeakenableVersions = new HashSet<string>(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

    private static readonly object Gate = new();
    private static bool _patched;

#pragma warning disable CA2255 // A module initializer is the only hook that runs before user code can touch torch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => EnsureNativeLibraryPatched();

    /// <summary>Patches the LibTorchSharp copy next to TorchSharp.dll once per process; safe to call repeatedly.</summary>
    public static void EnsureNativeLibraryPatched()
    {
        lock (Gate)
        {
            if (_patched || !OperatingSystem.IsLinux())
            {
                _patched = true;
                return;
            }
            var dir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
            if (!string.IsNullOrEmpty(dir))
            {
                foreach (var candidate in new[]
                         {
                             Path.Combine(dir, "libLibTorchSharp.so"),
                             Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                         })
                {
                    if (File.Exists(candidate))
                    {
                        ElfVersionPatcher.WeakenVersionRequirements(candidate, WeakenableVersions);
                    }
                }
            }
            _patched = true;
        }
    }

    /// <summary>
    /// Fixes the intra-op thread count and the global seed so that runs repeat bit for bit (results differ in the
    /// last bits between thread counts). Threads default to the core count.
    /// </summary>
    public static void Configure(int? threads = null, long? seed = null)
    {
        EnsureNativeLibraryPatched();
        torch.set_num_threads(threads ?? Environment.ProcessorCount);
        if (seed is { } s)
        {
            torch.manual_seed(s);
        }
    }

    /// <summary>Whether a device name ("cuda", "cuda:1") names a GPU; "cpu" does not.</summary>
    public static bool IsCuda(string name) => name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);

    /// <summary>The device named by <paramref name="name"/> ("cpu", "cuda", "cuda:1"), checked to exist.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        EnsureNativeLibraryPatched();
        if (!Core.Options.ProblemList.IsDevice(name))
        {
            throw new Core.Errors.UserInputException($"device must be cpu, cuda or cuda:N (got '{name}')");
        }
        if (IsCuda(name) && !torch.cuda.is_available())
        {
            throw new Core.Errors.UserInputException(
                $"device '{name}' requested but CUDA is not available (build with -p:TorchDevice=cuda on a CUDA host)");
        }
        return new torch.Device(name);
    }
}

/// <summary>Edits the ELF symbol-version needs table (.gnu.version_r) of a 64-bit little-endian shared object.</summary>
internal static class ElfVersionPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>
    /// Sets VER_FLG_WEAK on each needed version whose name is in <paramref name="versions"/>; returns how many
    /// entries were changed (0 when already patched or absent, so repeated calls are no-ops).
    /// </summary>
    public static int WeakenVersionRequirements(string path, IReadOnlySet<string> versions)
    {
        var entries = FindVersionNeeds(path).Where(e => versions.Contains(e.Name) && (e.Flags & VerFlgWeak) == 0).ToList();
        if (entries.Count == 0)
        {
            return 0;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        Span<byte> flags = stackalloc byte[2];
        foreach (var entry in entries)
        {
            BitConverter.TryWriteBytes(flags, (ushort)(entry.Flags | VerFlgWeak));
            stream.Position = entry.FlagsOffset;
            stream.Write(flags);
        }
        stream.Flush(flushToDisk: true);
        return entries.Count;
    }

    /// <summary>Every Vernaux entry: version name, flags and the file offset of its flags field.</summary>
    public static IReadOnlyList<(string Name, ushort Flags, long FlagsOffset)> FindVersionNeeds(string path)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F'
            || data[4] != 2 || data[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file");
        }
        var shoff = (long)BitConverter.ToUInt64(data, 0x28);
        int shentsize = BitConverter.ToUInt16(data, 0x3A);
        int shnum = BitConverter.ToUInt16(data, 0x3C);
        var result = new List<(string, ushort, long)>();
        for (var i = 0; i < shnum; i++)
        {
            var sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(data, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }
            var offset = checked((int)BitConverter.ToUInt64(data, sh + 0x18));
            var link = (int)BitConverter.ToUInt32(data, sh + 0x28);
            var count = (int)BitConverter.ToUInt32(data, sh + 0x2C);
            var strtab = checked((int)BitConverter.ToUInt64(data, checked((int)(shoff + (long)link * shentsize)) + 0x18));
            var need = offset;
            for (var n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(data, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(data, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var flags = BitConverter.ToUInt16(data, aux + 4);
                    var nameOffset = strtab + (int)BitConverter.ToUInt32(data, aux + 8);
                    var end = Array.IndexOf(data, (byte)0, nameOffset);
                    result.Add((System.Text.Encoding.ASCII.GetString(data, nameOffset, end - nameOffset), flags, aux + 4));
                    aux += (int)BitConverter.ToUInt32(data, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(data, need + 12);
            }
        }
        return result;
    }
}
