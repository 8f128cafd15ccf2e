using System.Text.Json;
using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.Tests;

/// <summary>The Python/NLTK ports against golden outputs of NLTK 3.8 (punkt with the port's parameters).</summary>
public class TextPortTests
{
    private sealed record Golden(string Text, int Sentences, List<string> Tokens);

    private static List<Golden> LoadGolden() =>
        [.. File.ReadLines(TestPaths.TestData("nltk_golden.jsonl"))
            .Select(l => JsonSerializer.Deserialize<Golden>(l, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)];

    [Fact]
    public void CountSentences_GoldenTexts_MatchesNltkPunkt()
    {
        var golden = LoadGolden();
        var mismatches = golden.Where(g => PunktSentenceTokenizer.CountSentences(g.Text) != g.Sentences)
            .Select(g => $"{JsonSerializer.Serialize(g.Text)}: expected {g.Sentences}, got {PunktSentenceTokenizer.CountSentences(g.Text)}")
            .ToList();
        Assert.True(golden.Count > 400);
        Assert.Empty(mismatches);
    }

    [Fact]
    public void WordTokenize_GoldenTexts_MatchesNltkWordTokenize()
    {
        var mismatches = LoadGolden().Where(g => !TreebankWordTokenizer.WordTokenize(g.Text).SequenceEqual(g.Tokens))
            .Select(g => $"{JsonSerializer.Serialize(g.Text)}: expected [{string.Join("|", g.Tokens)}], got [{string.Join("|", TreebankWordTokenizer.WordTokenize(g.Text))}]")
            .ToList();
        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("   \n ", 0)]
    [InlineData("One sentence without a stop", 1)]
    [InlineData("Very bad acting!!! I promise.", 2)]
    [InlineData("(Sent one.) Sent two.", 2)]
    [InlineData("He left at 5 p.m. Then she came.", 2)]
    public void CountSentences_EdgeCases(string text, int expected) =>
        Assert.Equal(expected, PunktSentenceTokenizer.CountSentences(text));

    [Theory]
    [InlineData("HELLO", true, false)]
    [InlineData("HELLO 123!", true, false)]
    [InlineData("hello 123!", false, true)]
    [InlineData("123", false, false)]
    [InlineData("", false, false)]
    [InlineData("ÜBER ÉTÉ", true, false)]
    [InlineData("ǅ", false, false)] // title case counts as neither
    [InlineData("ⓐ lower", false, true)] // Other_Lowercase, as Python's islower
    [InlineData("中文 ABC", true, false)] // uncased letters are ignored
    public void IsUpperIsLower_PythonSemantics(string text, bool upper, bool lower)
    {
        Assert.Equal(upper, PyText.IsUpper(text));
        Assert.Equal(lower, PyText.IsLower(text));
    }

    [Fact]
    public void Strip_PythonWhitespace_IncludesInformationSeparators() =>
        Assert.Equal("a b", PyText.Strip("\x1c\u3000 a b\u00a0\x1f\n"));

    [Theory]
    [InlineData("null", true)]
    [InlineData(" \n[1, -0.5, 1E+2, \"\\u00e9\\n\"]\r\n", true)]
    [InlineData("Infinity", true)]
    [InlineData("{\"a\":1}{\"b\":2}", false)]
    [InlineData("01", false)]
    [InlineData("1.", false)]
    [InlineData("[1,]", false)]
    [InlineData("\"bad \\x escape\"", false)]
    [InlineData("", false)]
    [InlineData("{\"a\" 1}", false)]
    public void PyJson_IsValid_MatchesPythonJsonLoads(string text, bool expected) =>
        Assert.Equal(expected, PyJson.IsValid(text));

    [Fact]
    public void PyJson_DeepNesting_RejectedWithoutStackOverflow() =>
        Assert.False(PyJson.IsValid(new string('[', 20_000) + new string(']', 20_000)));
}
