using System.Runtime.InteropServices;
using System.Text;
using SparOrleans.Core.Errors;

namespace SparOrleans.Engine.Text;

/// <summary>
/// NFC/NFD/NFKC/NFKD through the system's ICU. The repository runs with <c>InvariantGlobalization</c>, under which
/// <see cref="string.Normalize()"/> leaves non-ASCII text unchanged (measured: "e\u0301" stayed two characters), so
/// Qwen's NFC normalizer would silently do nothing. ICU is what .NET itself normalizes with outside invariant mode.
/// </summary>
internal static unsafe class UnicodeNormalizer
{
    private static readonly Lazy<Icu> Library = new(Load);

    public static string Normalize(string text, NormalizationForm form)
    {
        if (IsAscii(text))
        {
            return text;
        }
        var icu = Library.Value;
        var instance = form switch
        {
            NormalizationForm.FormC => icu.Nfc,
            NormalizationForm.FormD => icu.Nfd,
            NormalizationForm.FormKC => icu.Nfkc,
            _ => icu.Nfkd,
        };
        // NFKD can expand a character up to 18 times; grow once if ICU says the buffer was short.
        var capacity = text.Length * 3 + 16;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var buffer = new char[capacity];
            var error = 0;
            int length;
            fixed (char* src = text)
            fixed (char* dest = buffer)
            {
                length = icu.NormalizeFn(instance, src, text.Length, dest, capacity, &error);
            }
            if (error <= 0)
            {
                return new string(buffer, 0, length);
            }
            if (error != BufferOverflowError)
            {
                throw new InvalidOperationException($"ICU unorm2_normalize failed with error {error}");
            }
            capacity = length + 1;
        }
        throw new InvalidOperationException("ICU unorm2_normalize kept overflowing its buffer");
    }

    private const int BufferOverflowError = 15;

    private static bool IsAscii(string text)
    {
        foreach (var c in text)
        {
            if (c >= 0x80)
            {
                return false;
            }
        }
        return true;
    }

    private sealed class Icu
    {
        public IntPtr Nfc, Nfd, Nfkc, Nfkd;
        public delegate* unmanaged<IntPtr, char*, int, char*, int, int*, int> NormalizeFn;
    }

    private static Icu Load()
    {
        for (var version = 90; version >= 50; version--)
        {
            if (!NativeLibrary.TryLoad($"libicuuc.so.{version}", out var handle))
            {
                continue;
            }
            foreach (var suffix in new[] { $"_{version}", "" })
            {
                if (NativeLibrary.TryGetExport(handle, "unorm2_normalize" + suffix, out var normalize))
                {
                    return new Icu
                    {
                        NormalizeFn = (delegate* unmanaged<IntPtr, char*, int, char*, int, int*, int>)normalize,
                        Nfc = Instance(handle, "unorm2_getNFCInstance" + suffix),
                        Nfd = Instance(handle, "unorm2_getNFDInstance" + suffix),
                        Nfkc = Instance(handle, "unorm2_getNFKCInstance" + suffix),
                        Nfkd = Instance(handle, "unorm2_getNFKDInstance" + suffix),
                    };
                }
            }
        }
        throw new UserInputException("this tokenizer's Unicode normalizer needs ICU (libicuuc), which was not found; install libicu");
    }

    private static IntPtr Instance(IntPtr handle, string name)
    {
        var get = (delegate* unmanaged<int*, IntPtr>)NativeLibrary.GetExport(handle, name);
        var error = 0;
        var instance = get(&error);
        return error <= 0 ? instance : throw new InvalidOperationException($"ICU {name} failed with error {error}");
    }
}
