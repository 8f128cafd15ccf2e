namespace SparOrleans.Core.Datasets;

/// <summary>Where an iteration's DPO pairs come from: SPaR's refinements, or a baseline's independent samples.</summary>
public enum PairSource
{
    /// <summary>SPaR: the tree search's refined response against the negative it was refined from.</summary>
    Refinement,

    /// <summary>Self-rewarding: among the K samples, the one the model's own vote rates highest against the lowest.</summary>
    SelfRewarding,

    /// <summary>The "w/o refinement" ablation: a sample the own vote passes against one it fails (interfering pairs).</summary>
    Interfering,
}
