using SparOrleans.Experiments.Statistics;

namespace SparOrleans.Experiments.Reporting;

/// <summary>
/// The contract every experiment keeps: it measures a result over seeds (its own <c>RunAsync</c>, whose inputs differ:
/// a silo, checkpoints, a simulated refiner), every figure of which keeps its per-seed values (<see cref="SeedStat"/>);
/// from a result alone, measured now or read back from an earlier results.json, it states its claims as paired tests
/// and renders one <see cref="ExperimentReport"/>, which <see cref="ReportWriter"/> writes the same way for all.
/// </summary>
/// <typeparam name="TResult">What one run of the experiment measured (serialized as results.json's "result").</typeparam>
public interface IExperiment<TResult>
{
    /// <summary>The command name and folder under docs/results/.</summary>
    string Name { get; }

    /// <summary>The paper's claims tested in <paramref name="result"/>, one family (Holm's adjustment runs over them).</summary>
    IReadOnlyList<Claim> Claims(TResult result);

    /// <summary>Table, plots, JSON and results.md section of <paramref name="result"/>, given its tested claims.</summary>
    ExperimentReport Report(TResult result, IReadOnlyList<Claim> claims, ReportPlace place);
}

/// <summary>Where a report goes: its folder and the results.md whose section it rewrites.</summary>
public sealed record ReportPlace(string Directory, string ResultsPath)
{
    /// <summary>The folder's table.md relative to results.md, as the section links it.</summary>
    public string RelativeTable => Path.GetRelativePath(Path.GetDirectoryName(ResultsPath)!, Path.Combine(Directory, "table.md")).Replace('\\', '/');
}

/// <summary>A PNG plot of a report, by its file name in the report's folder.</summary>
public sealed record ExperimentPlot(string File, byte[] Png);

/// <summary>
/// Everything an experiment writes and prints.
/// </summary>
/// <param name="Document">table.md: the table, the claims and the plots' links.</param>
/// <param name="Results">results.json's content (the result, the verdicts, the paper's numbers).</param>
/// <param name="Section">The results.md section, starting with its numbered "## N." heading.</param>
/// <param name="Table">What the command prints as its table.</param>
/// <param name="Summary">The one-paragraph verdict the command prints after the table.</param>
/// <param name="Payload">What <c>--format json</c> prints.</param>
public sealed record ExperimentReport(string Document, object Results, IReadOnlyList<ExperimentPlot> Plots, string Section, string Table,
    string Summary, object Payload, IReadOnlyList<Claim> Claims);
