using System.Globalization;
using Spectre.Console;
using SparOrleans.Client.Cli;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Runs;

/// <summary>The run's figures as summary.json (snake_case, entry 0 = M_0/R_0) and as a table for people.</summary>
public static class RunSummary
{
    public sealed record Summary(string RunId, RunStatusKind Status, int Seed, string Preset, string Policy, IReadOnlyList<IterationReport> Iterations, string? Error);

    public static Summary From(string runId, RunStatusKind status, RunSpec? spec, IReadOnlyList<IterationReport> reports, string? error) =>
        new(runId, status, spec?.Seed ?? 0, spec?.Preset ?? "", spec?.Policy ?? "", reports, error);

    /// <summary>Writes summary.json atomically (a temp file moved into place).</summary>
    public static string Write(string directory, Summary summary)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "summary.json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, System.Text.Json.JsonSerializer.Serialize(summary, SummaryJson));
        File.Move(temp, path, overwrite: true);
        return path;
    }

    // A figure a run did not measure (a model run without --eval-ifeval or --eval-llmbar) is NaN in the reports and
    // null in summary.json, which JSON has no NaN for.
    private static readonly System.Text.Json.JsonSerializerOptions SummaryJson = new(CliOutput.Json)
    {
        WriteIndented = true,
        Converters = { new NotMeasuredAsNull() },
    };

    private sealed class NotMeasuredAsNull : System.Text.Json.Serialization.JsonConverter<double>
    {
        public override double Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            reader.TokenType == System.Text.Json.JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(System.Text.Json.Utf8JsonWriter writer, double value, System.Text.Json.JsonSerializerOptions options)
        {
            if (double.IsNaN(value))
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteNumberValue(value);
            }
        }
    }

    public static Table Table(IReadOnlyList<IterationReport> reports)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("SPaR iterations (held-out)");
        foreach (var column in new[] { "iter", "P(S)", "I(S)", "P(L)", "I(L)", "judge acc", "judge F1", "refine ok", "mean exp", "DPO pairs", "RFT ex.", "seconds" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        foreach (var r in reports)
        {
            table.AddRow(
                r.Iteration == 0 ? "0 (M0/R0)" : r.Iteration.ToString(CultureInfo.InvariantCulture),
                Pct(r.ActorHeldout.PromptStrict), Pct(r.ActorHeldout.InstructionStrict), Pct(r.ActorHeldout.PromptLoose), Pct(r.ActorHeldout.InstructionLoose),
                Pct(r.RefinerJudgment.Accuracy), Pct(r.RefinerJudgment.F1),
                r.RefinementSuccess is { } s ? Pct(s) : "-",
                r.MeanExpansions is { } e ? e.ToString("F1", CultureInfo.InvariantCulture) : "-",
                r.DpoPairs.ToString(CultureInfo.InvariantCulture), r.RftExamples.ToString(CultureInfo.InvariantCulture),
                r.Seconds.ToString("F0", CultureInfo.InvariantCulture));
        }
        return table;
    }

    /// <summary>
    /// Where each iteration's time went and what its search found: prompts, negatives (trees), winners, the prompts
    /// whose every vote was invalid (no verdict at all: counted apart, as they are no negatives by the judge's word),
    /// and the seconds of every phase in the order the run went through them.
    /// </summary>
    public static Table PhaseTable(IReadOnlyList<IterationReport> reports)
    {
        var phases = reports.SelectMany(r => r.PhaseSeconds.Keys).Distinct().ToList();
        var table = new Table().Border(TableBorder.Rounded).Title("Search and seconds per phase");
        foreach (var column in new[] { "iter", "prompts", "negatives", "winners", "no verdict" }.Concat(phases))
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }
        foreach (var r in reports)
        {
            table.AddRow([
                r.Iteration.ToString(CultureInfo.InvariantCulture),
                r.Iteration == 0 ? "-" : r.Prompts.ToString(CultureInfo.InvariantCulture),
                r.Iteration == 0 ? "-" : r.Negatives.ToString(CultureInfo.InvariantCulture),
                r.Iteration == 0 ? "-" : r.Winners.ToString(CultureInfo.InvariantCulture),
                r.Iteration == 0 ? "-" : r.AllVotesInvalid.ToString(CultureInfo.InvariantCulture),
                .. phases.Select(p => r.PhaseSeconds.TryGetValue(p, out var seconds) ? seconds.ToString("F0", CultureInfo.InvariantCulture) : "-"),
            ]);
        }
        return table;
    }

    internal static string Pct(double value) => double.IsNaN(value) ? "-" : (100 * value).ToString("F1", CultureInfo.InvariantCulture);
}
