namespace SparOrleans.Core.Formats;

/// <summary>One turn of a chat; the engine's chat template turns a list of these into tokens.</summary>
public sealed record ChatMessage(string Role, string Content)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>One constraint's check inside a judgment: what was verified, the evidence seen, whether it holds.</summary>
public sealed record ConstraintCheck(string Constraint, string Evidence, bool Satisfied);

/// <summary>What a judgment says, independent of how a format writes it out.</summary>
public sealed record JudgmentContent(IReadOnlyList<ConstraintCheck> Checks, bool Follows);

/// <summary>A verdict parsed from judgment text: 1 = Yes, 0 = No, -1 = invalid (the reference's encoding).</summary>
public enum Verdict
{
    Invalid = -1,
    No = 0,
    Yes = 1,
}

/// <summary>
/// How the two roles talk: the actor prompt, the judge prompt and its answer, the refinement turn and its answer.
/// The paper's templates (Figure 8) serve real checkpoints; a compact format keeps the simulator's sequences short.
/// </summary>
public interface IRoleFormat
{
    string Name { get; }

    IReadOnlyList<ChatMessage> ActorPrompt(string instruction);

    IReadOnlyList<ChatMessage> JudgePrompt(string instruction, string response);

    /// <summary>The judge's answer text for a judgment (what the teacher writes and the refiner learns).</summary>
    string RenderJudgment(JudgmentContent judgment);

    Verdict ParseVerdict(string judgmentText);

    /// <summary>The refinement conversation: judge prompt, the parent's judgment, then the refinement request.</summary>
    IReadOnlyList<ChatMessage> RefinePrompt(string instruction, string response, string judgmentText);

    /// <summary>The refiner's answer text: a reflection, then the refined output between markers.</summary>
    string RenderRefinement(string reflection, string refinedResponse);

    /// <summary>The refined response between the markers, or null when the markers are missing (a failed generation).</summary>
    string? ParseRefinement(string refinerOutput);
}
