using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Verifiers.Tests;

public class IfEvalFilesTests
{
    private static string Write(string dir, string name, string content)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ReadInput_OfficialFile_Reads541PromptsAnd834Instructions()
    {
        var examples = IfEvalFiles.ReadInput(TestPaths.IfEvalInput);
        Assert.Equal(541, examples.Count);
        Assert.Equal(834, examples.Sum(e => e.InstructionIds.Count));
        Assert.All(examples, e => Assert.Equal(e.InstructionIds.Count, e.Kwargs.Count));
    }

    [Theory]
    [InlineData("{\"prompt\": \"a\", \"response\": \"x\"}\n{not json\n", ":2: malformed JSON")]
    [InlineData("{\"prompt\": \"a\"}\n", ":1: missing string field 'response'")]
    [InlineData("[1, 2]\n", ":1: expected a JSON object")]
    public void ReadResponses_MalformedLine_ThrowsNamingFileAndLine(string content, string expected)
    {
        var dir = TestPaths.TempDir();
        var path = Write(dir, "responses.jsonl", content);
        var e = Assert.Throws<UserInputException>(() => IfEvalFiles.ReadResponses(path));
        Assert.Contains(path + expected, e.Message);
    }

    [Fact]
    public void ReadResponses_BlankLinesAndRepeats_SkipsBlankKeepsLast()
    {
        var dir = TestPaths.TempDir();
        var path = Write(dir, "r.jsonl", "{\"prompt\":\"a\",\"response\":\"1\"}\n\n{\"prompt\":\"a\",\"response\":\"2\"}\n");
        Assert.Equal("2", IfEvalFiles.ReadResponses(path)["a"]);
    }

    [Theory]
    [InlineData("{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [\"nope:x\"], \"kwargs\": [{}]}", "nope:x")]
    [InlineData("{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}, {}]}", "2 entries")]
    [InlineData("{\"key\": 1, \"instruction_id_list\": [], \"kwargs\": []}", "'prompt'")]
    [InlineData("{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [\"length_constraints:number_words\"], \"kwargs\": [{\"num_words\": 5, \"relation\": \"at most\"}]}", "'relation'")]
    public void ReadInput_BadLine_ThrowsNamingLineAndProblem(string line, string expected)
    {
        var dir = TestPaths.TempDir();
        var path = Write(dir, "input.jsonl", line + "\n");
        var e = Assert.Throws<UserInputException>(() => IfEvalFiles.ReadInput(path));
        Assert.Contains(path + ":1:", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ReadInput_NullKwargs_TreatedAsAbsent()
    {
        var dir = TestPaths.TempDir();
        var path = Write(dir, "input.jsonl",
            "{\"key\": 5, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\", \"detectable_content:number_placeholders\"], \"kwargs\": [{\"num_words\": null}, {\"num_placeholders\": 1, \"language\": null}]}\n");
        var example = Assert.Single(IfEvalFiles.ReadInput(path));
        Assert.Empty(example.Kwargs[0]);
        Assert.Single(example.Kwargs[1]);
        Assert.Equal("5", example.Key);
    }

    [Fact]
    public void ReadInput_MissingFile_ThrowsUserInput() =>
        Assert.Contains("not found", Assert.Throws<UserInputException>(() => IfEvalFiles.ReadInput("/nonexistent/x.jsonl")).Message);

    [Fact]
    public void WriteResults_OfficialFormat_PythonJsonDumpsStyle()
    {
        var dir = TestPaths.TempDir();
        var example = new IfEvalExample("1", "Say \"hé\"\n", ["punctuation:no_comma"], [new()]);
        var result = IfEvalScorer.ScoreOne(example, "hé, there");
        var path = Path.Combine(dir, "eval_results_strict.jsonl");
        IfEvalFiles.WriteResults(path, [result], loose: false);
        Assert.Equal(
            "{\"follow_all_instructions\": false, \"follow_instruction_list\": [false], \"instruction_id_list\": [\"punctuation:no_comma\"], \"prompt\": \"Say \\\"h\\u00e9\\\"\\n\", \"response\": \"h\\u00e9, there\"}\n",
            File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }
}
