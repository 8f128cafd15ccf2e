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

    [Fact]
    public async Task Write_WhileAnotherProcessReadsTheTarget_TheReaderSeesAWholeDirectoryOrKnowsItDidNot()
    {
        // Runs sharing a bootstrap cache read an entry while another run replaces it: deleting the old directory in
        // place let a reader list a half-deleted entry and copy it without an error (a model with files missing). A
        // listing can still catch the old directory mid-delete; the reader's contract (list again, compare) sees it.
        var root = Root();
        var target = Path.Combine(root, "entry");
        var files = Enumerable.Range(0, 50).Select(i => $"part-{i}.bin").ToList();
        void Fill(string temp) => files.ForEach(f => File.WriteAllText(Path.Combine(temp, f), "x"));
        AtomicDirectory.Write(target, Fill);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                AtomicDirectory.Write(target, Fill);
            }
        });
        var partial = 0;
        var whole = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var listed = Directory.GetFiles(target);
                var read = listed.Select(File.ReadAllText).Count();
                if (!Directory.GetFiles(target).Order().SequenceEqual(listed.Order()))
                {
                    // Replaced while read: the reader knows, and tries again.
                    continue;
                }
                if (read == files.Count)
                {
                    whole++;
                }
                else
                {
                    partial++;
                }
            }
            catch (IOException)
            {
                // The directory moved away mid-read: the reader knows, and tries again (or trains its own).
            }
        }
        await writer;

        Assert.Equal(0, partial);
        Assert.True(whole > 0);
        Assert.Equal(["entry"], Directory.GetDirectories(root).Select(Path.GetFileName));
    }
}
