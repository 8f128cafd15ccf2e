namespace SparOrleans.Core.Export;

/// <summary>
/// Writes a whole directory or nothing (a model checkpoint, an adapter): <c>fill</c> writes into a sibling temporary
/// directory, which then replaces <c>path</c>; on an exception the temporary directory is removed and <c>path</c> is
/// left as it was. A reader that lists <c>path</c> while it is replaced may list the old directory as its files are
/// deleted: a reader that must see it whole lists it again after reading and retries when the two listings differ.
/// </summary>
public static class AtomicDirectory
{
    public static void Write(string path, Action<string> fill)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        // Unique per call: two writers of the same target (threads, or processes sharing a cache) never share a temp.
        var temp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var aside = $"{full}.old-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            // Renamed aside, not deleted in place: a concurrent writer's recursive delete could otherwise remove part
            // of the directory another writer has just moved in, leaving a half-deleted "complete" directory.
            if (Directory.Exists(full))
            {
                try
                {
                    Directory.Move(full, aside);
                }
                catch (DirectoryNotFoundException)
                {
                    // Another writer moved it aside first.
                }
            }
            var parent = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(parent))
            {
                Directory.CreateDirectory(parent);
            }
            Directory.Move(temp, full);
        }
        finally
        {
            foreach (var leftover in new[] { temp, aside }.Where(Directory.Exists))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }
    }
}
