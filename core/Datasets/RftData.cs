using System.Text.Json.Serialization;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;

namespace SparOrleans.Core.Datasets;

/// <summary>The five sources of refiner RFT data, in the reference's order of priority for de-duplication.</summary>
public enum RftSource
{
    /// <summary>(prompt, parent response, parent judgment) → the refiner output that produced a winner.</summary>
    Refinement,

    /// <summary>A tree node's majority-Yes judgment from a vote <see cref="RftVotes"/> selects.</summary>
    TreeYes,

    /// <summary>A tree node's majority-No judgment from a vote <see cref="RftVotes"/> selects.</summary>
    TreeNo,

    /// <summary>An actor sample's majority-No judgment from a vote of the initial judging that <see cref="RftVotes"/> selects.</summary>
    InitialNo,

    /// <summary>An actor sample's majority-Yes judgment from a vote of the initial judging that <see cref="RftVotes"/> selects.</summary>
    InitialYes,
}

/// <summary>Which votes give the refiner its RFT judgments. Stored in run state by value: new kinds are appended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RftVotes>))]
public enum RftVotes
{
    /// <summary>Votes with both Yes and No samples, the cases the judge finds hard (every judged tree node's such vote).</summary>
    NonUnanimous,

    /// <summary>
    /// Votes whose valid samples all agree. A weak judge is at chance on its split votes (the simulator's refiners are right
    /// on 40–49% of them and on 57–70% of its unanimous ones), so RFT on split votes teaches it its own coin flips.
    /// </summary>
    Unanimous,

    /// <summary>
    /// The paper's (§2.2.3: "the judgment consistent with majority voting"): every vote with a majority (ties dropped),
    /// and from a tree one node judged Yes and one judged No, the reference scripts' contrastive pair.
    /// </summary>
    Majority,
}

/// <summary>One SFT example (a chat ending with the assistant's target turn) and where it came from.</summary>
public sealed record SftExample(RftSource Source, IReadOnlyList<ChatMessage> Messages)
{
    /// <summary>The de-duplication key: the first turn (the judge prompt for judgments and the paper's refinements).</summary>
    public string Key => Messages[0].Content;

    public bool IsYesJudgment => Source is RftSource.TreeYes or RftSource.InitialYes;

    public bool IsNoJudgment => Source is RftSource.TreeNo or RftSource.InitialNo;
}

/// <summary>Extracts RFT candidates from finished trees and from the initial judging.</summary>
public static class RftData
{
    /// <summary>The refinement that produced the winner, as the refiner's conversation; null without a winner.</summary>
    public static SftExample? Refinement(SearchState state, IRoleFormat format)
    {
        if (state.Winner is not { RefinerOutput: { } output } winner)
        {
            return null;
        }
        var parent = state.Nodes[winner.ParentId];
        return new SftExample(RftSource.Refinement,
            [.. format.RefinePrompt(state.Instruction, parent.Response!, parent.Judgment!), new(ChatMessage.Assistant, output)]);
    }

    /// <summary>
    /// Judgments of the tree's judged children (cache hits count once) whose vote <paramref name="votes"/> selects; for
    /// <see cref="RftVotes.Majority"/> a contrastive pair instead (<see cref="ContrastiveNodes"/>).
    /// </summary>
    public static IEnumerable<SftExample> TreeJudgments(SearchState state, IRoleFormat format, RftVotes votes = RftVotes.Majority)
    {
        var judged = state.Nodes.Where(n => n.Status == NodeStatus.Judged && !n.FromCache && n.Vote is not null);
        var nodes = votes == RftVotes.Majority ? ContrastiveNodes(state) : judged;
        return nodes.Select(n => Judgment(state.Instruction, n.Response!, n.Vote!, format, votes, RftSource.TreeYes, RftSource.TreeNo))
            .OfType<SftExample>();
    }

    /// <summary>
    /// One node judged Yes and one judged No by majority (judged children, no cache hits): the winner when it is one
    /// (else the shallowest, first Yes node) and the shallowest, first No node, so the pair judges similar responses
    /// of one prompt apart. Either is missing when the tree has no such node.
    /// </summary>
    public static IReadOnlyList<SearchNode> ContrastiveNodes(SearchState state)
    {
        var judged = state.Nodes.Where(n => n.Status == NodeStatus.Judged && !n.FromCache && n.Vote?.Majority is not null)
            .OrderBy(n => n.Depth).ThenBy(n => n.Id).ToList();
        var yes = judged.Where(n => n.Vote!.Majority == Verdict.Yes).ToList();
        var pickYes = state.Winner is { } w && yes.FirstOrDefault(n => n.Id == w.Id) is { } winner ? winner : yes.FirstOrDefault();
        var pickNo = judged.FirstOrDefault(n => n.Vote!.Majority == Verdict.No);
        return [.. new[] { pickYes, pickNo }.OfType<SearchNode>()];
    }

    /// <summary>Judgments of the initial judging stage whose vote <paramref name="votes"/> selects.</summary>
    public static IEnumerable<SftExample> InitialJudgments(JudgedPrompt prompt, IRoleFormat format, RftVotes votes = RftVotes.Majority) =>
        prompt.Responses.Select(r => Judgment(prompt.Instruction, r.Response, r.Vote, format, votes, RftSource.InitialYes, RftSource.InitialNo))
            .OfType<SftExample>();

    /// <summary>
    /// Whether a judgment's checks name only constraints the instruction states (each check's name found verbatim in it,
    /// at least one check): the compact format's judge names a constraint by the prompt's own sentence, so a name the
    /// prompt lacks is a constraint it made up. About half the checks of the simulator's sampled judgments are such
    /// (simulator/README.md). True for formats whose judgments have no check lines to read.
    /// </summary>
    public static bool IsGrounded(IRoleFormat format, string instruction, string judgment) =>
        format is not CompactFormat compact
        || compact.ReadJudgment(judgment) is { Checks.Count: > 0 } content && content.Checks.All(c => instruction.Contains(c.Constraint, StringComparison.Ordinal));

    private static SftExample? Judgment(string instruction, string response, Vote vote, IRoleFormat format, RftVotes votes, RftSource yes, RftSource no)
    {
        var selected = votes switch
        {
            RftVotes.NonUnanimous => vote.IsNonUnanimous,
            RftVotes.Unanimous => vote.IsUnanimous,
            _ => !vote.IsTie,
        };
        if (!selected || vote.KeptJudgment is not { } kept)
        {
            return null;
        }
        return new SftExample(vote.Majority == Verdict.Yes ? yes : no,
            [.. format.JudgePrompt(instruction, response), new(ChatMessage.Assistant, kept)]);
    }
}
