using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;

namespace SparOrleans.Core.Datasets;

/// <summary>
/// Re-renders RFT examples written in the compact format (the simulator's) in another role format, e.g. the paper's
/// Figure 8 templates for a real model: the same examples, judgments and refinements, asked and answered the way
/// that format asks and answers. The selection stays the one the run trained on; only the text changes.
/// </summary>
public static class RftTranslation
{
    private static readonly CompactFormat Compact = new();

    /// <param name="example">An example of the compact RFT set, as stored in a prompt's outcome.</param>
    /// <param name="instruction">The instruction of the prompt the example came from.</param>
    /// <param name="search">That prompt's finished search (needed for a refinement example: its parent's full judgment).</param>
    /// <exception cref="InvalidOperationException">The example is not what the compact format renders from these inputs.</exception>
    public static SftExample FromCompact(SftExample example, string instruction, SearchState? search, IRoleFormat target)
    {
        if (target.Name == Compact.Name)
        {
            return example;
        }
        if (example.Source == RftSource.Refinement)
        {
            // The compact refinement prompt carries only the failed constraints' names, so the parent's full judgment,
            // which the paper's multi-turn refinement shows, comes from the search itself.
            if (search is null || RftData.Refinement(search, Compact) is not { } compact || !SameMessages(compact.Messages, example.Messages))
            {
                throw new InvalidOperationException($"A refinement example of '{instruction}' does not match its prompt's search.");
            }
            var winner = search.Winner!;
            var parent = search.Nodes[winner.ParentId];
            return new SftExample(RftSource.Refinement,
                [.. target.RefinePrompt(instruction, parent.Response!, Judgment(parent.Judgment!, target)), new(ChatMessage.Assistant, Refinement(winner.RefinerOutput!, target))]);
        }
        if (example.Messages is not [{ Role: ChatMessage.User, Content: var prompt }, { Role: ChatMessage.Assistant, Content: var kept }])
        {
            throw new InvalidOperationException($"A judgment example of '{instruction}' is not one user turn and one assistant turn.");
        }
        var response = JudgedResponse(instruction, prompt);
        return new SftExample(example.Source, [.. target.JudgePrompt(instruction, response), new(ChatMessage.Assistant, Judgment(kept, target))]);
    }

    private static string JudgedResponse(string instruction, string judgePrompt)
    {
        // The response is what follows the instruction in the judge prompt; rendering it back checks the split.
        var prefix = Compact.JudgePrompt(instruction, "")[0].Content;
        var response = judgePrompt.StartsWith(prefix, StringComparison.Ordinal) ? judgePrompt[prefix.Length..] : null;
        return response is not null && Compact.JudgePrompt(instruction, response)[0].Content == judgePrompt
            ? response
            : throw new InvalidOperationException($"A judgment example's prompt is not the compact judge prompt of '{instruction}'.");
    }

    private static string Judgment(string compactJudgment, IRoleFormat target) =>
        target.RenderJudgment(Compact.ReadJudgment(compactJudgment)
            ?? throw new InvalidOperationException($"A kept judgment has no verdict: '{compactJudgment}'."));

    private static string Refinement(string compactOutput, IRoleFormat target) =>
        CompactFormat.ReadRefinement(compactOutput) is var (reflection, refined)
            ? target.RenderRefinement(reflection, refined)
            : throw new InvalidOperationException($"A winning refinement has no refined response between markers: '{compactOutput}'.");

    private static bool SameMessages(IReadOnlyList<ChatMessage> a, IReadOnlyList<ChatMessage> b) => a.SequenceEqual(b);
}
