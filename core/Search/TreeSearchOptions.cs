using SparOrleans.Core.Options;

namespace SparOrleans.Core.Search;

/// <summary>The refinement strategies: the paper's tree searches and the Table 10 comparisons.</summary>
public enum SearchPolicyKind
{
    /// <summary>Breadth-first: expand the whole level, check it, keep the best <see cref="TreeSearchOptions.KeepBest"/>.</summary>
    Bfs,

    /// <summary>Depth-first, best-first: expand a node, check, recurse into its best children in order.</summary>
    Dfs,

    /// <summary>One refinement of the root (greedy decoding hint).</summary>
    Greedy,

    /// <summary>A chain: refine the last refinement again until a winner or the budget.</summary>
    Iterative,

    /// <summary>All the budget's refinements of the root at once; the best one is checked.</summary>
    BestOfN,
}

/// <summary>
/// Tree-search refinement. Defaults are the paper's: <see cref="BranchFactor"/> 3 (1–16), <see cref="KeepBest"/> 2
/// (1–16), <see cref="MaxDepth"/> 3 (1–16), <see cref="WinThreshold"/> 0.5 (a winner needs V strictly above it,
/// 0–1), <see cref="MaxExpansions"/> 15 (1–1000: the generation budget, one expansion = one refined child; BFS
/// with the defaults reaches at most 3 + 6 + 6 = 15, DFS would reach 21 without it), <see cref="RefineAttempts"/> 3
/// (1–10: a refinement without its markers is retried, then the child fails).
/// Iterative and best-of-N spend <see cref="MaxExpansions"/> and ignore branch, keep and depth; greedy spends one.
/// </summary>
public sealed record TreeSearchOptions(
    int BranchFactor = 3,
    int KeepBest = 2,
    int MaxDepth = 3,
    double WinThreshold = 0.5,
    int MaxExpansions = 15,
    int RefineAttempts = 3) : IValidatedOptions
{
    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(BranchFactor), BranchFactor, 1, 16)
        .InRange(nameof(KeepBest), KeepBest, 1, 16)
        .InRange(nameof(MaxDepth), MaxDepth, 1, 16)
        .InRange(nameof(WinThreshold), WinThreshold, 0, 1)
        .InRange(nameof(MaxExpansions), MaxExpansions, 1, 1000)
        .InRange(nameof(RefineAttempts), RefineAttempts, 1, 10);
}
