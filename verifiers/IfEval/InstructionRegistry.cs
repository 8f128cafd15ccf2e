namespace SparOrleans.Verifiers.IfEval;

/// <summary>All 25 IFEval instruction checkers by id.</summary>
public static class InstructionRegistry
{
    // Contract placeholder: the IFEval checks arrive with the foundation issue's scorer work.
    public static IReadOnlyCollection<string> Ids => throw new NotImplementedException("IFEval checks not written yet");

    /// <summary>The checker for <paramref name="instructionId"/>; an unknown id is a user error naming it.</summary>
    public static IInstructionChecker Get(string instructionId) =>
        throw new NotImplementedException($"IFEval checks not written yet ({instructionId})");
}
