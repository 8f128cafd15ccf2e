using SparOrleans.Core.Errors;
using SparOrleans.Core.Prompts;

namespace SparOrleans.Core.Tests.Prompts;

public class PromptFileTests
{
    private static string Write(params string[] lines)
    {
        var path = Path.Combine(Path.GetTempPath(), "spar-prompts-" + Guid.NewGuid().ToString("N") + ".jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private const string Good = """{"key": 1, "prompt": "Write a poem.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}""";

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("""{"key": 2}""", "missing string field 'prompt'")]
    [InlineData("""{"prompt": 5}""", "missing string field 'prompt'")]
    [InlineData("""{"prompt": "  "}""", "'prompt' is empty")]
    [InlineData("""{"prompt": "p", "instruction_id_list": "punctuation:no_comma"}""", "must be a list of strings")]
    [InlineData("""{"prompt": "p", "instruction_id_list": [1]}""", "must hold strings")]
    [InlineData("""{"prompt": "p", "instruction_id_list": ["a"], "kwargs": {}}""", "must be a list of objects")]
    [InlineData("""{"prompt": "p", "instruction_id_list": ["a"], "kwargs": [1]}""", "must be an object")]
    [InlineData("""{"prompt": "p", "instruction_id_list": ["a"], "kwargs": [{}, {}]}""", "'kwargs' has 2 entries but 'instruction_id_list' has 1")]
    [InlineData("""{"prompt": "p", "kwargs": [{}]}""", "'kwargs' has 1 entries but 'instruction_id_list' has 0")]
    [InlineData("""{"key": [1], "prompt": "p"}""", "'key' must be a number or string")]
    [InlineData("""{"key": "a/b", "prompt": "p"}""", "no '/'")]
    public void Read_BadLine_RefusedWithItsLineNumber(string bad, string message)
    {
        var path = Write(Good, "", bad);
        var e = Assert.Throws<UserInputException>(() => PromptFile.Read(path));
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Read_DuplicateKey_NamesBothLines()
    {
        var path = Write(Good, """{"key": "x", "prompt": "q"}""", """{"key": 1, "prompt": "r"}""");
        var e = Assert.Throws<UserInputException>(() => PromptFile.Read(path));
        Assert.Equal($"{path}:3: key '1' is already used on line 1.", e.Message);
    }

    [Fact]
    public void Read_EmptyOrMissingFile_Refused()
    {
        var empty = Write("", "  ");
        Assert.Contains("no prompts", Assert.Throws<UserInputException>(() => PromptFile.Read(empty)).Message);
        Assert.Contains("file not found", Assert.Throws<UserInputException>(() => PromptFile.Read(empty + ".none")).Message);
    }

    [Fact]
    public void Read_KeepsFieldsAndExtras()
    {
        var path = Write(Good, """{"prompt": "Plain.", "source": {"a": [1]}, "n": 3}""");
        var entries = PromptFile.Read(path);
        Assert.Equal(2, entries.Count);
        Assert.Equal(("1", "k1", "Write a poem."), (entries[0].Key, entries[0].PromptId, entries[0].Prompt));
        Assert.Equal(["punctuation:no_comma"], entries[0].InstructionIds);
        Assert.Equal(["{}"], entries[0].KwargsJson);
        Assert.Empty(entries[0].Extra);
        Assert.Null(entries[1].Key);
        Assert.Equal("line2", entries[1].PromptId);
        Assert.Empty(entries[1].InstructionIds);
        Assert.Equal("""{"a":[1]}""", entries[1].Extra["source"]);
        Assert.Equal("3", entries[1].Extra["n"]);
    }

    private static IReadOnlyList<PromptFileEntry> Many(int n) =>
        PromptFile.Read(Write(Enumerable.Range(1, n).Select(i => $$"""{"key": {{i}}, "prompt": "p{{i}}"}""").ToArray()));

    [Fact]
    public void Draw_SameSeedAndIteration_SameOrder_OtherIterationOrSeed_Differs()
    {
        var entries = Many(100);
        var ids = (int seed, int t) => PromptFile.Draw(entries, seed, t, 20).Select(e => e.PromptId).ToList();
        Assert.Equal(ids(7, 1), ids(7, 1));
        Assert.NotEqual(ids(7, 1), ids(7, 2));
        Assert.NotEqual(ids(7, 1), ids(8, 1));
        Assert.Equal(20, ids(7, 1).Distinct().Count());
        // Pinned: the order is part of what a resumed run replays.
        Assert.Equal(ids(7, 1), PromptFile.Draw(Many(100), 7, 1, 20).Select(e => e.PromptId).ToList());
    }

    [Fact]
    public void Draw_FileSmallerThanCount_EveryPromptOnce()
    {
        var entries = Many(5);
        var drawn = PromptFile.Draw(entries, 1, 3, 12);
        Assert.Equal(5, drawn.Count);
        Assert.Equal(entries.Select(e => e.PromptId).Order(), drawn.Select(e => e.PromptId).Order());
    }
}
