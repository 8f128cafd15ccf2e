using System.Text.Json;
using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Export;

/// <summary>JSONL reading and writing with the project's error policy: whole files or nothing, named bad lines.</summary>
public static class JsonlFile
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    /// <summary>Writes one JSON object per line to a temporary file, then moves it over <paramref name="path"/>.</summary>
    public static void Write<T>(string path, IEnumerable<T> rows)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var writer = new StreamWriter(temp, false, new System.Text.UTF8Encoding(false)))
            {
                writer.NewLine = "\n";
                foreach (var row in rows)
                {
                    writer.WriteLine(JsonSerializer.Serialize(row, Json));
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Reads every non-blank line; a missing file or a malformed line is a <see cref="UserInputException"/>.</summary>
    public static IReadOnlyList<T> Read<T>(string path, Func<T, string?> problem)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"{path}: file not found.");
        }
        var rows = new List<T>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            T? row;
            try
            {
                row = JsonSerializer.Deserialize<T>(line, Json);
            }
            catch (JsonException e)
            {
                throw new UserInputException($"{path}:{number}: not a valid JSON object ({e.Message})", e);
            }
            var issue = row is null ? "empty line object" : problem(row);
            if (issue is not null)
            {
                throw new UserInputException($"{path}:{number}: {issue}.");
            }
            rows.Add(row!);
        }
        return rows;
    }
}
