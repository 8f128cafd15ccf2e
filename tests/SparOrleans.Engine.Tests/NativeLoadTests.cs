using SparOrleans.Engine.Native;
using TorchSharp;

namespace SparOrleans.Engine.Tests;

public class NativeLoadTests
{
    private static string LibraryPath => Path.Combine(Path.GetDirectoryName(typeof(torch).Assembly.Location)!, "libLibTorchSharp.so");

    [Fact]
    public void EnsureNativeLibraryPatched_AfterPatch_RequirementIsWeakAndTorchRuns()
    {
        TorchRuntime.EnsureNativeLibraryPatched();
        var needs = ElfVersionPatcher.FindVersionNeeds(LibraryPath);
        var anchor = Assert.Single(needs, n => n.Name == "GLIBCXX_3.4.32");
        Assert.True((anchor.Flags & 0x2) != 0);
        using var x = torch.ones(3, 3);
        Assert.Equal(9f, x.sum().item<float>());
    }

    [Fact]
    public void WeakenVersionRequirements_OnFreshCopy_PatchesOnceThenIsNoOp()
    {
        var original = Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/root", ".nuget/packages/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so");
        var source = File.Exists(original) ? original : LibraryPath;
        var copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");
        File.Copy(source, copy);
        try
        {
            var first = ElfVersionPatcher.WeakenVersionRequirements(copy, TorchRuntime.WeakenableVersions);
            var second = ElfVersionPatcher.WeakenVersionRequirements(copy, TorchRuntime.WeakenableVersions);
            Assert.Equal(source == original ? 1 : 0, first);
            Assert.Equal(0, second);
            // Only the flag bytes may change: every other requirement stays strict.
            var before = ElfVersionPatcher.FindVersionNeeds(source).Where(n => n.Name != "GLIBCXX_3.4.32").ToList();
            var after = ElfVersionPatcher.FindVersionNeeds(copy).Where(n => n.Name != "GLIBCXX_3.4.32").ToList();
            Assert.Equal(before, after);
            Assert.Equal(new FileInfo(source).Length, new FileInfo(copy).Length);
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
