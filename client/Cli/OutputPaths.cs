using SparOrleans.Core.Errors;

namespace SparOrleans.Client.Cli;

/// <summary>
/// Where a verb will write, checked before it starts: a folder or file that cannot be written is the user's error
/// at once, not after minutes of work (or with a run half stored). The check leaves nothing behind.
/// </summary>
public static class OutputPaths
{
    /// <summary>Throws a <see cref="UserInputException"/> naming <paramref name="option"/> when files cannot be created in <paramref name="directory"/>.</summary>
    public static void EnsureWritable(string directory, string option)
    {
        directory = Path.GetFullPath(directory);
        // The outermost folder this check creates: removed again with everything under it.
        var created = Missing(directory);
        try
        {
            if (File.Exists(directory))
            {
                throw new IOException("it is a file, not a folder");
            }
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{option} {directory} cannot be written ({e.Message.TrimEnd('.')}).", e);
        }
        finally
        {
            if (created is not null && Directory.Exists(created))
            {
                Directory.Delete(created, recursive: true);
            }
        }
    }

    /// <summary><see cref="EnsureWritable"/> for the folder of <paramref name="file"/>, which must not be a folder itself.</summary>
    public static void EnsureWritableFile(string file, string option)
    {
        file = Path.GetFullPath(file);
        if (Directory.Exists(file))
        {
            throw new UserInputException($"{option} {file} is a folder: give a file name.");
        }
        EnsureWritable(Path.GetDirectoryName(file)!, option);
    }

    /// <summary>The outermost ancestor of <paramref name="directory"/> (or itself) that does not exist yet; null if it exists.</summary>
    public static string? Missing(string directory)
    {
        string? missing = null;
        for (var d = Path.GetFullPath(directory); d is not null && !Path.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing = d;
        }
        return missing;
    }
}
