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
    public static void Write<T>(string path, IEnumerable<T> rows) => Write(path, rows, Json);

    /// <summary>The same, serialising each row with <paramref name="options"/> (e.g. snake_case names).</summary>
    public static void Write<T>(string path, IEnumerable<T> rows, JsonSerializerOptions options) =>
        AtomicFile.WriteText(path, writer =>
        {
            foreach (var row in rows)
            {
                writer.WriteLine(JsonSerializer.Serialize(row, options));
            }
        });

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
