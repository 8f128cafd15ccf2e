using SparOrleans.Core.Search;

namespace SparOrleans.Core.Datasets;

/// <summary>A preference pair: <see cref="Prompt"/> is the instruction (or a judge prompt for judge-preference pairs).</summary>
public sealed record DpoPair(string Prompt, string Chosen, string Rejected);

/// <summary>The actor's DPO pairs from finished trees: chosen = the winner, rejected = the root (the negative).</summary>
public static class DpoPairs
{
    /// <summary>The pair of one finished search; null when it has no winner or the winner's text equals the root's.</summary>
    public static DpoPair? FromSearch(SearchState state)
    {
        if (!state.IsFinished || state.Winner?.Response is not { } chosen)
        {
            return null;
        }
        return Make(state.Instruction, chosen, state.Root.Response!);
    }

    public static IReadOnlyList<DpoPair> FromSearches(IEnumerable<SearchState> states) =>
        states.Select(FromSearch).OfType<DpoPair>().ToList();

    /// <summary>A pair, or null when chosen and rejected are the same text (a pair that teaches nothing).</summary>
    public static DpoPair? Make(string prompt, string chosen, string rejected) =>
        string.Equals(chosen.Trim(), rejected.Trim(), StringComparison.Ordinal) ? null : new DpoPair(prompt, chosen, rejected);
}
