using System.Text.Json;
using System.Text.Json.Serialization;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Search;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Runs;

namespace SparOrleans.Client.Runs;

/// <summary>What <c>spar export</c> writes.</summary>
public enum ExportKind
{
    /// <summary>The actor's DPO pairs (prompt, chosen, rejected).</summary>
    Dpo,

    /// <summary>The refiner's RFT set (chat examples), rebuilt exactly as the run trained on it.</summary>
    Rft,

    /// <summary>Every vote: actor samples and tree nodes, with the verifiers' truth.</summary>
    Judgments,

    /// <summary>Each prompt's refinement tree (JSON, not JSONL).</summary>
    Trees,
}

/// <summary>The trainer a DPO or RFT file is laid out for (judgments and trees have one layout).</summary>
public enum ExportStyle
{
    Trl,
    LlamaFactory,
}

/// <summary>
/// What an export wrote: the file, how many rows (trees for <see cref="ExportKind.Trees"/>), from where, in which
/// role format, and for LLaMA-Factory the dataset_info.json and the dataset name it registered the file under.
/// </summary>
public sealed record ExportResult(
    string File, int Count, string RunId, int Iteration, ExportKind What, ExportStyle Style, string? RoleFormat = null,
    string? DatasetInfo = null, string? DatasetName = null);

/// <summary>
/// Writes one iteration of a stored run as training data or inspection files, from the state directory alone (no
/// silo). DPO pairs and the RFT set are rebuilt with <see cref="IterationDatasets"/>, the function the run trained
/// with, so the files hold exactly what the models saw. Every file is written atomically.
/// </summary>
public static class RunExport
{
    /// <summary>Snake_case keys with nulls kept, so every judgment line has the same fields.</summary>
    private static readonly JsonSerializerOptions Json = new(CliOutput.Json) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <param name="iteration">1-based; null = the last iteration that finished.</param>
    /// <param name="roleFormat">
    /// The role format DPO prompts and RFT examples are written in; null = the run's own
    /// (<see cref="IterationDatasets.Format"/> of its spec). Judgments and trees hold the models' own texts and take none.
    /// </param>
    public static async Task<ExportResult> ExportAsync(
        RunStore store, string runId, int? iteration, ExportKind what, ExportStyle style, string path, CancellationToken cancellationToken,
        IRoleFormat? roleFormat = null)
    {
        if (roleFormat is not null && what is ExportKind.Judgments or ExportKind.Trees)
        {
            throw new UserInputException(
                $"--role-format applies to dpo and rft only: {what.ToString().ToLowerInvariant()} hold the models' own texts, not prompts rendered in a format.");
        }
        // Checked before anything is written, so a bad dataset_info.json or file name leaves no data file behind.
        var registration = style == ExportStyle.LlamaFactory && what is ExportKind.Dpo or ExportKind.Rft
            ? LlamaFactoryJsonl.PrepareRegistration(path, Path.GetFileNameWithoutExtension(path), ranking: what == ExportKind.Dpo)
            : null;
        var run = await store.GetAsync(runId, cancellationToken);
        var spec = run.Spec ?? throw new UserInputException($"Run '{runId}' has no stored spec: it never started.");
        var format = roleFormat ?? IterationDatasets.Format(spec);
        var t = iteration ?? (run.LastFinishedIteration > 0
            ? run.LastFinishedIteration
            : throw new UserInputException(run.PromptIds.Count == 0
                ? $"Run '{runId}' has not started an iteration yet: nothing to export."
                : $"Run '{runId}' has not finished an iteration yet: pass --iteration {run.PromptIds.Count} to export the one in progress."));
        var prompts = await store.GetPromptsAsync(run, t, cancellationToken);
        int count;
        switch (what)
        {
            case ExportKind.Dpo:
                var pairs = IterationDatasets.DpoPairs(Outcomes(runId, t, prompts)).Select(p => ChatPreference.From(p, format)).ToList();
                if (style == ExportStyle.Trl)
                {
                    TrlJsonl.WriteDpo(path, pairs);
                }
                else
                {
                    LlamaFactoryJsonl.WriteDpo(path, pairs);
                }
                count = pairs.Count;
                break;
            case ExportKind.Rft:
                var settings = new RunMethodSettings().Of(spec);
                var specs = prompts.Where(p => p.State.Prompt is not null).ToDictionary(p => p.State.Prompt!.PromptId, p => p.State.Prompt!);
                var examples = InFormat(IterationDatasets.RftExamples(spec, Outcomes(runId, t, prompts), settings,
                    IterationDatasets.RftFilter(spec, settings, specs, Truth)), prompts, IterationDatasets.Format(spec), format);
                if (style == ExportStyle.Trl)
                {
                    TrlJsonl.WriteSft(path, examples.Select(e => e.Messages));
                }
                else
                {
                    LlamaFactoryJsonl.WriteSft(path, examples.Select(e => e.Messages));
                }
                count = examples.Count;
                break;
            case ExportKind.Judgments:
                var rows = prompts.SelectMany(p => Judgments(spec, p)).ToList();
                JsonlFile.Write(path, rows, Json);
                count = rows.Count;
                break;
            default:
                var trees = prompts.Where(p => p.State.Search is not null).Select(p => Tree(spec, p)).ToList();
                AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, trees, new JsonSerializerOptions(Json) { WriteIndented = true }));
                count = trees.Count;
                break;
        }
        registration?.Write();
        return new ExportResult(
            Path.GetFullPath(path), count, runId, t, what, style, what is ExportKind.Dpo or ExportKind.Rft ? format.Name : null,
            registration?.InfoPath, registration?.Name);
    }

    /// <summary>The RFT set the run trained on, each example re-rendered in <paramref name="format"/>.</summary>
    private static IReadOnlyList<SftExample> InFormat(IReadOnlyList<SftExample> examples, IReadOnlyList<StoredPrompt> prompts, IRoleFormat runFormat, IRoleFormat format)
    {
        if (format.Name == runFormat.Name)
        {
            return examples;
        }
        if (runFormat.Name != RoleFormats.Compact.Name)
        {
            throw new UserInputException($"--role-format {format.Name}: this run trained its refiner in the {runFormat.Name} format, and RFT examples can be re-rendered only from the compact one.");
        }
        // The builder keeps the outcome's own example objects, so each selected example finds its prompt by reference.
        var origin = new Dictionary<SftExample, StoredPrompt>(ReferenceEqualityComparer.Instance);
        foreach (var prompt in prompts)
        {
            foreach (var candidate in prompt.State.Outcome!.RftCandidates)
            {
                origin[candidate] = prompt;
            }
        }
        return examples.Select(e => RftTranslation.FromCompact(e, origin[e].State.Prompt!.Instruction, origin[e].State.Search, format)).ToList();
    }

    /// <summary>One line of the judgments file: a response, its vote, the majority verdict and the verifiers' truth.</summary>
    public sealed record JudgmentRow(
        string PromptId, string Instruction, string Source, int Index, int? ParentId, int? Depth, string Response,
        int Yes, int No, int Invalid, int Rounds, double? Value, string? Verdict, IReadOnlyList<string> Judgments, bool? Verifier);

    /// <summary>One prompt's tree: nodes by id (root = 0, the negative), how the search ended, and its winner.</summary>
    public sealed record TreeExport(
        string PromptId, string Instruction, string Policy, int Expansions, string? EndReason, int? WinnerId, int? BestId, IReadOnlyList<TreeNodeExport> Nodes);

    /// <summary>A tree node; <see cref="ParentId"/> is null for the root, V (<see cref="Value"/>) is null until judged or on a tie.</summary>
    public sealed record TreeNodeExport(
        int Id, int? ParentId, int Depth, string Status, string? Response, int? Yes, int? No, int? Invalid, double? Value, string? Judgment, bool? Verifier);

    private static IReadOnlyList<PromptOutcome> Outcomes(string runId, int iteration, IReadOnlyList<StoredPrompt> prompts)
    {
        var pending = prompts.Where(p => p.State.Outcome is null).ToList();
        if (pending.Count > 0)
        {
            throw new UserInputException(
                $"Iteration {iteration} of run '{runId}' is not through its search yet ({pending.Count} of {prompts.Count} prompts pending): " +
                "its DPO and RFT data exist once every prompt is done; judgments and trees can be exported now.");
        }
        return prompts.Select(p => p.State.Outcome!).ToList();
    }

    private static IEnumerable<JudgmentRow> Judgments(RunSpec run, StoredPrompt prompt)
    {
        if (prompt.State.Prompt is not { } spec)
        {
            yield break;
        }
        for (var i = 0; i < prompt.State.Judged.Count; i++)
        {
            var judged = prompt.State.Judged[i];
            yield return Row(run, spec, "sample", i, null, null, judged.Response, judged.Vote);
        }
        foreach (var node in prompt.State.Search?.Nodes ?? [])
        {
            if (node.Status != NodeStatus.Root && node.Response is { } response && node.Vote is { } vote)
            {
                yield return Row(run, spec, "tree", node.Id, node.ParentId, node.Depth, response, vote);
            }
        }
    }

    private static JudgmentRow Row(RunSpec run, PromptSpec spec, string source, int index, int? parentId, int? depth, string response, Vote vote) => new(
        spec.PromptId, spec.Instruction, source, index, parentId, depth, response, vote.Yes, vote.No, vote.Invalid, vote.Rounds, vote.Value,
        vote.Majority switch { Verdict.Yes => "yes", Verdict.No => "no", _ => null }, vote.Samples, Truth.Follows(run, spec, response));

    private static TreeExport Tree(RunSpec run, StoredPrompt prompt)
    {
        var search = prompt.State.Search!;
        return new TreeExport(
            prompt.PromptId,
            search.Instruction,
            search.Policy.ToString().ToLowerInvariant(),
            search.Expansions,
            search.End?.Reason,
            search.End?.WinnerId,
            search.End?.BestId,
            search.Nodes.Select(n => new TreeNodeExport(
                n.Id,
                n.Status == NodeStatus.Root ? null : n.ParentId,
                n.Depth,
                n.Status.ToString().ToLowerInvariant(),
                n.Response,
                n.Vote?.Yes,
                n.Vote?.No,
                n.Vote?.Invalid,
                n.Value,
                n.Judgment,
                n.Response is { } r && prompt.State.Prompt is { } spec ? Truth.Follows(run, spec, r) : null)).ToList());
    }

    /// <summary>The verifiers' verdict on a node; null when a constraint has no verifier here (an unknown instruction id).</summary>
    private static readonly RunResponseVerifier Truth = new();
}
