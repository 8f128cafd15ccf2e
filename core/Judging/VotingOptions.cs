using SparOrleans.Core.Options;

namespace SparOrleans.Core.Judging;

/// <summary>Which of the judgments agreeing with the majority becomes the node's judgment.</summary>
public enum KeptJudgmentChoice
{
    /// <summary>The first agreeing sample (the reference scripts).</summary>
    First,

    /// <summary>A seeded random agreeing sample (the paper's text).</summary>
    Random,
}

/// <summary>
/// Majority voting@k over judge samples. Defaults: <see cref="Samples"/> 5 (1–64), <see cref="TieRejudges"/> 0
/// (a tie is dropped; the tree search uses 3), <see cref="KeptJudgment"/> First, <see cref="Seed"/> 0.
/// A tie is #Yes = #No, which includes ties caused by invalid samples and the all-invalid vote (0 = 0).
/// </summary>
public sealed record VotingOptions(
    int Samples = 5,
    int TieRejudges = 0,
    KeptJudgmentChoice KeptJudgment = KeptJudgmentChoice.First,
    int Seed = 0) : IValidatedOptions
{
    /// <summary>Initial judging of actor samples: ties are dropped.</summary>
    public static VotingOptions InitialJudging { get; } = new();

    /// <summary>Tree-search nodes: a tie is re-judged up to 3 times, then the child is discarded.</summary>
    public static VotingOptions TreeSearch { get; } = new(TieRejudges: 3);

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(Samples), Samples, 1, 64)
        .InRange(nameof(TieRejudges), TieRejudges, 0, 16)
        .Require(Enum.IsDefined(KeptJudgment), $"{nameof(KeptJudgment)} must be First or Random (got {KeptJudgment})");
}
