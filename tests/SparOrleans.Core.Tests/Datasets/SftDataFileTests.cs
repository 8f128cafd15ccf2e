using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Tests.Datasets;

public class SftDataFileTests
{
    private static string Write(string text, string extension = ".jsonl")
    {
        var path = Path.Combine(Path.GetTempPath(), "spar-sft-" + Guid.NewGuid().ToString("N") + extension);
        File.WriteAllText(path, text);
        return path;
    }

    private static readonly ChatMessage[] Expected =
    [
        new(ChatMessage.System, "Be brief."), new(ChatMessage.User, "Name a bird."), new(ChatMessage.Assistant, "Owl."),
    ];

    [Theory]
    [InlineData("""{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a bird."}, {"role": "assistant", "content": "Owl."}]}""")]
    [InlineData("""{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a bird."}], "completion": [{"role": "assistant", "content": "Owl."}]}""")]
    [InlineData("""{"system": "Be brief.", "conversations": [{"from": "human", "value": "Name a bird."}, {"from": "gpt", "value": "Owl."}]}""")]
    [InlineData("""{"system": "Be brief.", "instruction": "Name a bird.", "input": "", "output": "Owl."}""")]
    public void Read_EachEcosystemLayout_GivesTheSameConversation(string row)
    {
        var rows = SftDataFile.Read(Write(row + "\n\n"));
        Assert.Equal(Expected, Assert.Single(rows));
    }

    [Fact]
    public void Read_PlainPromptCompletionAlpacaInputAndHistory_FollowTheToolsRules()
    {
        var path = Write("""
            [
              {"prompt": "Name a bird.", "completion": "Owl."},
              {"instruction": "Translate:", "input": "chat", "output": "cat", "history": [["Hi", "Hello"]]}
            ]
            """, ".json");
        var rows = SftDataFile.Read(path);
        Assert.Equal([new ChatMessage("user", "Name a bird."), new ChatMessage("assistant", "Owl.")], rows[0]);
        // LLaMA-Factory's alpaca converter: history turns first, then instruction + "\n" + input.
        Assert.Equal(
            [new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello"), new ChatMessage("user", "Translate:\nchat"), new ChatMessage("assistant", "cat")],
            rows[1]);
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}]}""", ":2: the conversation must end with an assistant message")]
    [InlineData("""{"messages": [{"role": "tool", "content": "x"}, {"role": "assistant", "content": "y"}]}""", ":2: unknown role 'tool'")]
    [InlineData("""{"text": "raw"}""", ":2: no known layout")]
    [InlineData("""{"messages": [{"role": "user"}, {"role": "assistant", "content": "y"}]}""", ":2: every message needs 'role' and 'content'")]
    [InlineData("""{"conversations": [{"from": "function_call", "value": "x"}, {"from": "gpt", "value": "y"}]}""", ":2: turn role 'function_call' is not supported")]
    [InlineData("""{"messages": [{"role": "system", "content": "x"}, {"role": "assistant", "content": "y"}]}""", ":2: no user message")]
    [InlineData("{not json", ":2: not a valid JSON object")]
    [InlineData("""{"messages": "hello"}""", ":2: expected a list of messages")]
    [InlineData("""{"prompt": 3, "completion": "y"}""", ":2: a value has the wrong type")]
    public void Read_BadRow_RefusedWithItsLineNumber(string badRow, string expected)
    {
        var good = """{"prompt": "a", "completion": "b"}""";
        var path = Write(good + "\n" + badRow + "\n");
        var e = Assert.Throws<UserInputException>(() => SftDataFile.Read(path));
        Assert.Contains(path + expected, e.Message);
    }

    [Fact]
    public void Read_MissingOrEmptyFile_UserError()
    {
        Assert.Contains("file not found", Assert.Throws<UserInputException>(() => SftDataFile.Read("/nonexistent/x.jsonl")).Message);
        Assert.Contains("no examples", Assert.Throws<UserInputException>(() => SftDataFile.Read(Write("\n"))).Message);
    }
}
