using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using SparOrleans.Verifiers.IfEval.Text;
using SparOrleans.Verifiers.IfEval.Text.LangDetect;
using Xunit.Abstractions;

namespace SparOrleans.Verifiers.Tests;

/// <summary>
/// The port against Python langdetect 1.0.9 (seed 0) on the texts of TestData/langdetect/golden.jsonl.gz
/// (make_golden.py): same language and bit-identical probabilities.
/// </summary>
public class LangDetectGoldenTests(ITestOutputHelper output)
{
    private sealed record Golden(string Text, string? Lang, List<(string Lang, string Prob)> Probs);

    private static (List<Golden> Texts, double PythonTextsPerSecond) ReadGolden()
    {
        using var file = File.OpenRead(TestPaths.TestData(Path.Combine("langdetect", "golden.jsonl.gz")));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var texts = new List<Golden>();
        double pythonSpeed = 0;
        while (reader.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.TryGetProperty("python_texts_per_s", out var speed))
            {
                pythonSpeed = speed.GetDouble();
                continue;
            }
            var probs = root.GetProperty("probs").EnumerateArray()
                .Select(p => (p[0].GetString()!, p[1].GetString()!)).ToList();
            texts.Add(new Golden(root.GetProperty("text").GetString()!, root.GetProperty("lang").GetString(), probs));
        }
        return (texts, pythonSpeed);
    }

    // Python's repr(float) is the shortest round-tripping form, as .NET's "R".
    private static string PyRepr(double d) => d.ToString("R", CultureInfo.InvariantCulture) switch
    {
        var s when s.Contains('E', StringComparison.Ordinal) => PyExponent(s),
        var s when !s.Contains('.', StringComparison.Ordinal) => s + ".0",
        var s => s,
    };

    private static string PyExponent(string s)
    {
        var parts = s.Split('E');
        int exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
        return parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Detect_GoldenTexts_AgreeWithPythonLangdetect()
    {
        var (golden, pythonSpeed) = ReadGolden();
        Assert.True(golden.Count >= 5000, $"only {golden.Count} golden texts");
        LanguageDetector.Detect("warm up the profiles");

        int sameLang = 0, sameProbs = 0;
        var differences = new List<string>();
        var watch = Stopwatch.StartNew();
        var results = golden.Select(g => LanguageDetector.GetProbabilities(g.Text)).ToList();
        watch.Stop();
        for (int i = 0; i < golden.Count; i++)
        {
            var g = golden[i];
            var probs = results[i];
            string? lang = probs is null ? null : probs.Count > 0 ? probs[0].Lang : LanguageDetector.Unknown;
            var mine = probs?.Select(p => (p.Lang, PyRepr(p.Prob))).ToList() ?? [];
            if (lang == g.Lang)
            {
                sameLang++;
            }
            if (mine.SequenceEqual(g.Probs))
            {
                sameProbs++;
            }
            else
            {
                differences.Add($"{JsonSerializer.Serialize(g.Text[..Math.Min(g.Text.Length, 80)])}: python {g.Lang} "
                    + $"[{string.Join(", ", g.Probs.Select(p => p.Lang + ":" + p.Prob))}] port {lang} "
                    + $"[{string.Join(", ", mine.Select(p => p.Lang + ":" + p.Item2))}]");
            }
        }
        double perSecond = golden.Count / watch.Elapsed.TotalSeconds;
        output.WriteLine($"langdetect golden: {sameLang}/{golden.Count} same language "
            + $"({100.0 * sameLang / golden.Count:F3}%), {sameProbs}/{golden.Count} bit-identical probabilities; "
            + $"port {perSecond:F0} texts/s single-threaded (Python langdetect: {pythonSpeed:F0} texts/s)");
        foreach (var d in differences.Take(50))
        {
            output.WriteLine(d);
        }
        Assert.True(sameLang * 1000 >= golden.Count * 999, $"{golden.Count - sameLang} language differences");
        Assert.Empty(differences);
    }

    [Fact]
    public void Detect_OtherSeeds_ChangeFewAnswers()
    {
        // langdetect's default seed is None (fresh draws per call), so the official, unseeded run can answer
        // differently from seed 0 wherever the seed matters; this measures how often that is on the golden texts.
        var (golden, _) = ReadGolden();
        var seed0 = golden.Select(g => LanguageDetector.Detect(g.Text)).ToList();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var changed = golden.Where((g, i) => LanguageDetector.Detect(g.Text, seed) != seed0[i]).ToList();
            output.WriteLine($"seed {seed}: {changed.Count}/{golden.Count} answers differ from seed 0");
            Assert.True(changed.Count * 20 < golden.Count, $"seed {seed} changes {changed.Count} answers");
        }
    }

    [Fact]
    public void PythonRandom_Seed0_ReproducesCPython()
    {
        // Values printed by CPython 3.11: r = random.Random(); r.seed(0); then the calls below in order.
        var r = new PythonRandom(0);
        Assert.Equal(0.8444218515250481, r.NextDouble());
        Assert.Equal(0.7579544029403025, r.NextDouble());
        Assert.Equal(0.420571580830845, r.NextDouble());
        Assert.Equal(-0.06700651572905797, r.Gauss(0.0, 1.0));
        Assert.Equal(1.1947466787499987, r.Gauss(0.0, 1.0));
        Assert.Equal(-1.4471231264273656, r.Gauss(0.0, 1.0));
        Assert.Equal([2, 3, 2, 4, 1], Enumerable.Range(0, 5).Select(_ => r.Below(7)));
        Assert.Equal([529202, 146039, 295528], Enumerable.Range(0, 3).Select(_ => r.Below(1000003)));
        Assert.Equal(0.6414006161858726, new PythonRandom(123456789).NextDouble());
    }

    [Fact]
    public void Detect_SameTextInParallel_GivesOneAnswer()
    {
        const string text = "Das Wetter ist heute schön und wir gehen mit dem Hund in den Park.";
        var expected = LanguageDetector.GetProbabilities(text)!;
        var answers = Enumerable.Range(0, 64).AsParallel().Select(_ => LanguageDetector.GetProbabilities(text)!).ToList();
        Assert.All(answers, a => Assert.Equal(expected, a));
    }
}
