using System.Globalization;
using System.Text;
using System.Text.Json;
using SparOrleans.Core.Export;
using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments.Reporting;

/// <summary>
/// The one writer of every experiment's outputs: its folder (<c>table.md</c>, <c>results.json</c>, the plots) and its
/// section of <c>docs/results.md</c>.
/// </summary>
public static class ReportWriter
{
    public const string ResultsFile = "results.md";

    /// <summary>The common tail of every experiment: its claims as one family (Holm), then its report.</summary>
    public static ExperimentReport Render<TResult>(IExperiment<TResult> experiment, TResult result, ReportPlace place) =>
        experiment.Report(result, Claims.Family(experiment.Claims(result)), place);

    /// <summary>Writes <paramref name="report"/> at <paramref name="place"/>; <paramref name="json"/> is the CLI's JSON naming.</summary>
    public static void Write(ExperimentReport report, ReportPlace place, JsonSerializerOptions json)
    {
        foreach (var plot in report.Plots)
        {
            AtomicFile.WriteBytes(Path.Combine(place.Directory, plot.File), plot.Png);
        }
        AtomicFile.WriteText(Path.Combine(place.Directory, "table.md"), w => w.Write(report.Document));
        AtomicFile.WriteText(Path.Combine(place.Directory, "results.json"), w => w.WriteLine(
            JsonSerializer.Serialize(report.Results, new JsonSerializerOptions(json) { WriteIndented = true })));
        UpdateResults(place.ResultsPath, report.Section);
    }

    /// <summary>
    /// Replaces the section that starts with the same "## " heading as <paramref name="section"/> in
    /// <paramref name="path"/> (up to the next "## "), or inserts it before the first section with a higher number
    /// ("## 4." after "## 1."), else at the end; creates the file with its header when missing.
    /// </summary>
    public static void UpdateResults(string path, string section)
    {
        var heading = section.Split('\n')[0].TrimEnd();
        var text = File.Exists(path) ? File.ReadAllText(path) : Header;
        var lines = text.Replace("\r\n", "\n").Split('\n').ToList();
        var start = lines.FindIndex(l => l.TrimEnd() == heading);
        if (start >= 0)
        {
            var end = lines.FindIndex(start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
            lines.RemoveRange(start, (end < 0 ? lines.Count : end) - start);
            lines.InsertRange(start, section.TrimEnd('\n').Split('\n').Append(""));
            text = string.Join("\n", lines);
        }
        else if (lines.FindIndex(l => SectionNumber(l) > SectionNumber(heading)) is var next && next >= 0 && SectionNumber(heading) > 0)
        {
            lines.InsertRange(next, section.TrimEnd('\n').Split('\n').Append(""));
            text = string.Join("\n", lines);
        }
        else
        {
            text = text.TrimEnd('\n') + "\n\n" + section.TrimEnd('\n') + "\n";
        }
        AtomicFile.WriteText(path, w => w.Write(text.TrimEnd('\n') + "\n"));
    }

    // "## 4. Refinement strategies" -> 4; 0 for a line that is not a numbered section heading.
    private static int SectionNumber(string line)
    {
        if (!line.StartsWith("## ", StringComparison.Ordinal))
        {
            return 0;
        }
        var dot = line.IndexOf('.', 3);
        return dot > 3 && int.TryParse(line.AsSpan(3, dot - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>The header of a new docs/results.md.</summary>
    public const string Header = """
        # Results: the paper's claims in the simulator

        One section per experiment of issue 8, each written by its `spar experiment NAME` command (re-running a
        command rewrites its section and its folder `docs/results/NAME/`). Every section states the paper's number,
        ours (mean ± std over seeds) and, for each claim, the paired test, its one-sided p, the 95% interval of the
        difference and the verdict at p < 0.05: **reproduced** or **not reproduced** (experiments/README.md). The
        simulator is a small world with verifiable constraints, so absolute numbers are not comparable with the
        paper's; directions and orderings are.

        """;
}

/// <summary>Number formats shared by the reports.</summary>
public static class ReportFormat
{
    /// <summary>A figure over seeds as "mean ± std" in percent.</summary>
    public static string Pct(SeedStat stat) => Inv($"{100 * stat.Mean:F1} ± {100 * stat.Std:F1}");

    /// <summary>The per-seed differences <paramref name="a"/> − <paramref name="b"/> of two figures measured on the same seeds, over seeds.</summary>
    public static SeedStat PairedDifference(SeedStat a, SeedStat b) => SeedStat.Of(PairedTests.Differences(a.PerSeed, b.PerSeed));

    /// <summary>"reproduced" / "not reproduced", as results.md marks a claim.</summary>
    public static string Word(bool reproduced) => reproduced ? "reproduced" : "not reproduced";

    /// <summary>The claims' lines for results.md, one per claim.</summary>
    public static string Lines(IEnumerable<Claim> claims) => string.Concat(claims.Select(c => c.Line() + "\n"));

    /// <summary>The end every table.md shares: the verdict, the claims' lines, a reading when there is one, and the plot.</summary>
    public static void AppendEnding(StringBuilder text, string summary, IEnumerable<Claim> claims, string? reading, string plot)
    {
        text.AppendLine(summary + ".");
        text.AppendLine();
        text.Append(Lines(claims));
        text.AppendLine();
        if (reading is not null)
        {
            text.AppendLine(reading);
            text.AppendLine();
        }
        text.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})");
    }

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
