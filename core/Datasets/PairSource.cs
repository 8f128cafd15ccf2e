namespace SparOrleans.Core.Datasets;

/// <summary>
/// How an iteration trains: where the actor's training data comes from and, for meta-rewarding, what the refiner
/// learns besides RFT. SPaR and its baselines and ablations of the paper's Tables 1 and 5, from the same loop.
/// Stored in run state by value: new kinds are appended.
/// </summary>
public enum PairSource
{
    /// <summary>SPaR: the tree search's refined response against the negative it was refined from.</summary>
    Refinement,

    /// <summary>Self-rewarding: among the K samples, the one the model's own vote rates highest against the lowest.</summary>
    SelfRewarding,

    /// <summary>The "w/o refinement" ablation: a sample the own vote passes against one it fails (interfering pairs).</summary>
    Interfering,

    /// <summary>
    /// Meta-rewarding: self-rewarding's actor pairs, and the refiner also learns to judge by DPO on judge-preference
    /// pairs (the vote's kept judgment against a dissenting one).
    /// </summary>
    MetaRewarding,

    /// <summary>SELF: the tree search as in SPaR, but the actor is fine-tuned on the refined responses alone (SFT, no rejected side).</summary>
    SelfRefine,
}

/// <summary>What each <see cref="PairSource"/> implies for the loop.</summary>
public static class PairSources
{
    /// <summary>The command-line names, in the enum's order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["refinement", "self-rewarding", "interfering", "meta-rewarding", "self-refine"];

    public static string Name(this PairSource source) => Names[(int)source];

    /// <summary>Parses a command-line name (see <see cref="Names"/>).</summary>
    public static PairSource Parse(string name)
    {
        var index = Names.ToList().IndexOf(name);
        return index >= 0
            ? (PairSource)index
            : throw new ArgumentException($"Unknown pair source '{name}': use one of {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Whether the iteration refines its negatives by tree search (otherwise pairs come from the judged samples).</summary>
    public static bool UsesTreeSearch(this PairSource source) => source is PairSource.Refinement or PairSource.SelfRefine;

    /// <summary>Whether the actor is trained by SFT on the chosen responses instead of DPO on the pairs.</summary>
    public static bool TrainsActorBySft(this PairSource source) => source == PairSource.SelfRefine;

    /// <summary>Whether the refiner also gets DPO on judge-preference pairs after its RFT.</summary>
    public static bool TrainsJudgeByDpo(this PairSource source) => source == PairSource.MetaRewarding;
}
