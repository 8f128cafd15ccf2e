using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval.Scoring;
using SparOrleans.World.Composition;
using SparOrleans.World.Constraints;

namespace SparOrleans.World.Benchmark;

/// <summary>
/// The world's held-out benchmark, IFEval style: prompts of the held-out split (never a training prompt text),
/// exposed as <see cref="IfEvalExample"/>s so the IFEval scorer scores an actor on them.
/// </summary>
public static class SimBenchmark
{
    /// <summary>The held-out set's default size (the issue asks for at least 500).</summary>
    public const int DefaultCount = 500;

    /// <summary>The seed of the project's standard held-out set.</summary>
    public const int DefaultSeed = 2025;

    /// <summary>
    /// <paramref name="count"/> held-out prompts, deterministic in (count, seed, options). With
    /// <paramref name="ifEvalOnly"/> (the default) prompts using a world-only <c>sim:</c> check are skipped, so the
    /// plain IFEval scorer (<c>spar eval ifeval</c>) can score the set; the levels keep the options' distribution.
    /// </summary>
    public static IReadOnlyList<WorldPrompt> HeldOut(int count = DefaultCount, int seed = DefaultSeed, bool ifEvalOnly = true, ComposerOptions? options = null)
    {
        if (count < 1)
        {
            throw new UserInputException($"the held-out set needs at least 1 prompt (got {count})");
        }
        var composer = new PromptComposer(options);
        var result = new List<WorldPrompt>(count);
        var texts = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; result.Count < count; i++)
        {
            var prompt = composer.Compose(WorldSeed.Mix(seed, i), WorldSplit.HeldOut);
            if ((!ifEvalOnly || !prompt.InstructionIds.Any(WorldInstructions.IsSim)) && texts.Add(prompt.Text))
            {
                result.Add(prompt);
            }
        }
        return result;
    }

    /// <summary>The prompt as an IFEval example; keys count up from 1000 like IFEval's own.</summary>
    public static IfEvalExample ToIfEval(WorldPrompt prompt, int index) =>
        new((1000 + index).ToString(CultureInfo.InvariantCulture), prompt.Text, prompt.InstructionIds, prompt.Kwargs());

    public static IReadOnlyList<IfEvalExample> ToIfEval(IEnumerable<WorldPrompt> prompts) =>
        [.. prompts.Select(ToIfEval)];

    /// <summary>One line of IFEval's input format: <c>{"key", "prompt", "instruction_id_list", "kwargs"}</c>.</summary>
    public static string ToJsonLine(IfEvalExample example)
    {
        var obj = new JsonObject
        {
            ["key"] = int.TryParse(example.Key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? JsonValue.Create(k) : JsonValue.Create(example.Key),
            ["prompt"] = example.Prompt,
            ["instruction_id_list"] = new JsonArray([.. example.InstructionIds.Select(id => JsonValue.Create(id))]),
            ["kwargs"] = new JsonArray([.. example.Kwargs.Select(kw => JsonNode.Parse(kw.ToJsonString()))]),
        };
        return obj.ToJsonString(LineOptions);
    }

    /// <summary>Writes an IFEval input file through a temporary file, so no half-written file is ever left.</summary>
    public static void WriteInputJsonl(string path, IEnumerable<IfEvalExample> examples)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var writer = new StreamWriter(temp, append: false, new UTF8Encoding(false)))
            {
                foreach (var example in examples)
                {
                    writer.Write(ToJsonLine(example) + "\n");
                }
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"cannot write {path}: {e.Message}", e);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static readonly JsonSerializerOptions LineOptions = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
