namespace SparOrleans.Core.Export;

/// <summary>
/// Writes a whole file or nothing: the content goes to a hidden temporary file beside <c>path</c>, which is then
/// moved over it, so a crash or an exception never leaves a half-written output.
/// </summary>
public static class AtomicFile
{
    /// <summary>Creates the parent folder if needed, lets <paramref name="write"/> fill a temp file, then moves it into place.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark, "\n" line ends) atomically.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
            write(writer);
        });

    public static void WriteBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));
}
