using SparOrleans.Core.Export;

namespace SparOrleans.Core.Tests.Export;

public class AtomicDirectoryTests
{
    private static string Root() => Directory.CreateTempSubdirectory("spar-atomic-dir-").FullName;

    [Fact]
    public void Write_ReplacesTheWholeDirectory_AndLeavesNoTemp()
    {
        var root = Root();
        var target = Path.Combine(root, "model");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "old.txt"), "old");
        AtomicDirectory.Write(target, temp => File.WriteAllText(Path.Combine(temp, "new.txt"), "new"));
        Assert.Equal(["new.txt"], Directory.GetFiles(target).Select(Path.GetFileName));
        Assert.Equal(["model"], Directory.GetDirectories(root).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_FailingHalfWay_LeavesTheTargetAsItWasAndNoTemp()
    {
        var root = Root();
        var target = Path.Combine(root, "model");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "old.txt"), "old");
        Assert.Throws<IOException>(() => AtomicDirectory.Write(target, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "half.txt"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(Path.Combine(target, "old.txt")));
        Assert.Equal(["model"], Directory.GetDirectories(root).Select(Path.GetFileName));
        // A target that did not exist stays absent.
        var fresh = Path.Combine(root, "fresh");
        Assert.Throws<IOException>(() => AtomicDirectory.Write(fresh, _ => throw new IOException("no")));
        Assert.False(Directory.Exists(fresh));
    }
}
