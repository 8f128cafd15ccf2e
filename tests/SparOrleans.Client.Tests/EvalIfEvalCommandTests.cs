using System.Text.Json;
using SparOrleans.Client.Cli;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary><c>spar eval ifeval</c>: parse → effect, through <see cref="SparCli.InvokeAsync"/>.</summary>
public class EvalIfEvalCommandTests
{
    private const string Input =
        """
        {"key": 1, "prompt": "Write without commas.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
        {"key": 2, "prompt": "Quote it and say hi.", "instruction_id_list": ["startend:quotation", "keywords:existence"], "kwargs": [{}, {"keywords": ["hi"]}]}
        """;

    private const string Responses =
        """
        {"prompt": "Write without commas.", "response": "No commas at all"}
        {"prompt": "Quote it and say hi.", "response": "Sure:\n\"hi there\""}
        """;

    private static (string Dir, string Input, string Responses) Files(string responses = Responses)
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-eval-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var input = Path.Combine(dir, "input.jsonl");
        var resp = Path.Combine(dir, "responses.jsonl");
        File.WriteAllText(input, Input + "\n");
        File.WriteAllText(resp, responses + "\n");
        return (dir, input, resp);
    }

    [Fact]
    public async Task IfEval_FormatJson_PrintsExactlyTheFourFractions()
    {
        var (_, input, responses) = Files();
        var (code, stdout, _) = await Spar("eval", "ifeval", "--input", input, "--responses", responses, "--format", "json");
        Assert.Equal(ExitCodes.Success, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["prompt_strict", "instruction_strict", "prompt_loose", "instruction_loose"],
            doc.RootElement.EnumerateObject().Select(p => p.Name));
        // Prompt 2 fails quotation strictly (preamble line) but passes loosely (first line removed).
        Assert.Equal(0.5, doc.RootElement.GetProperty("prompt_strict").GetDouble());
        Assert.Equal(2.0 / 3, doc.RootElement.GetProperty("instruction_strict").GetDouble(), 1e-12);
        Assert.Equal(1.0, doc.RootElement.GetProperty("prompt_loose").GetDouble());
        Assert.Equal(1.0, doc.RootElement.GetProperty("instruction_loose").GetDouble());
    }

    [Fact]
    public async Task IfEval_TextFormat_PrintsAccuraciesAndPerTypeTable()
    {
        var (_, input, responses) = Files();
        var (code, stdout, _) = await Spar("eval", "ifeval", "--input", input, "--responses", responses);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("prompt-level strict:       0.5000", stdout);
        Assert.Contains("instruction-level loose:   1.0000", stdout);
        Assert.Matches(@"startend:quotation\s+1\s+0\.0000\s+1\.0000", stdout);
        Assert.Matches(@"punctuation:no_comma\s+1\s+1\.0000\s+1\.0000", stdout);
    }

    [Fact]
    public async Task IfEval_Output_WritesOfficialStrictAndLooseFiles()
    {
        var (dir, input, responses) = Files();
        var outDir = Path.Combine(dir, "results");
        var (code, stdout, stderr) = await Spar("eval", "ifeval", "--input", input, "--responses", responses, "--output", outDir, "--format", "json");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("wrote", stderr);
        Assert.DoesNotContain("wrote", stdout);
        var strict = File.ReadAllLines(Path.Combine(outDir, "eval_results_strict.jsonl"));
        var loose = File.ReadAllLines(Path.Combine(outDir, "eval_results_loose.jsonl"));
        Assert.Equal(2, strict.Length);
        Assert.StartsWith("{\"follow_all_instructions\": false, \"follow_instruction_list\": [false, true], \"instruction_id_list\": [\"startend:quotation\", \"keywords:existence\"]", strict[1]);
        Assert.StartsWith("{\"follow_all_instructions\": true, \"follow_instruction_list\": [true, true]", loose[1]);
        Assert.Equal(2, Directory.GetFiles(outDir).Length);
    }

    [Fact]
    public async Task IfEval_MalformedResponseLine_ExitsTwoNamingLine()
    {
        var (_, input, responses) = Files("{\"prompt\": \"Write without commas.\", \"response\": \"x\"}\n{\"prompt\": oops}");
        var (code, stdout, stderr) = await Spar("eval", "ifeval", "--input", input, "--responses", responses);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(responses + ":2: malformed JSON", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task IfEval_MissingPrompt_ExitsTwoNamingPrompt()
    {
        var (_, input, responses) = Files("{\"prompt\": \"Write without commas.\", \"response\": \"x\"}");
        var (code, _, stderr) = await Spar("eval", "ifeval", "--input", input, "--responses", responses);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("Quote it and say hi.", stderr);
    }

    [Fact]
    public async Task IfEval_MissingRequiredOption_ExitsNonZero()
    {
        var (code, _, stderr) = await Spar("eval", "ifeval", "--input", "x.jsonl");
        Assert.NotEqual(ExitCodes.Success, code);
        Assert.Contains("--responses", stderr);
    }

    [Fact]
    public async Task Eval_Help_ListsIfEvalSubcommand()
    {
        var (code, stdout, _) = await Spar("eval", "--help");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("ifeval", stdout);
    }

    [Fact]
    public async Task IfEval_OfficialInput_ScoresAll541Prompts()
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-eval-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var input = Path.Combine(SharedDir(), "data", "ifeval", "input_data.jsonl");
        var responses = Path.Combine(dir, "responses.jsonl");
        File.WriteAllLines(responses, File.ReadLines(input).Select(l =>
        {
            var prompt = JsonDocument.Parse(l).RootElement.GetProperty("prompt").GetString();
            return JsonSerializer.Serialize(new { prompt, response = prompt });
        }));
        var (code, stdout, _) = await Spar("eval", "ifeval", "--input", input, "--responses", responses, "--output", dir, "--format", "json");
        Assert.Equal(ExitCodes.Success, code);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.InRange(result.GetProperty("prompt_strict").GetDouble(), 0.2, 0.3);
        Assert.InRange(result.GetProperty("instruction_loose").GetDouble(), 0.35, 0.45);
        Assert.Equal(541, File.ReadAllLines(Path.Combine(dir, "eval_results_loose.jsonl")).Length);
    }

    private static string SharedDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SparOrleans.sln")))
        {
            dir = dir.Parent;
        }
        return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared"));
    }
}
