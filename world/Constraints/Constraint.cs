using System.Text.Json.Nodes;
using SparOrleans.World.Tasks;

namespace SparOrleans.World.Constraints;

/// <summary>Top level of the paper's constraint taxonomy (Appendix A, Figure 6).</summary>
public enum ConstraintFamily
{
    Format,
    Content,
    General,
}

/// <summary>
/// One constraint type of the taxonomy: its family and sub-type (e.g. Format / punctuation), the verifier id that
/// checks it (an IFEval instruction id, or a <c>sim:</c> id for the world's own checks), and its place in the order in
/// which the teacher enforces constraints (content first, wrapping quotes last).
/// </summary>
public sealed record ConstraintKind(string Name, ConstraintFamily Family, string SubType, string InstructionId, int Order);

/// <summary>What an edit may need: the task (for titles and items), sentences it must not touch, a random source.</summary>
public sealed record EditContext(SeedTask Task, IReadOnlyList<string> ProtectedSentences, Random Rng);

/// <summary>
/// A constraint instance inside a prompt: how the prompt phrases it, its verifier kwargs, and the teacher's three
/// skills for it: quoting evidence, fixing a response by a minimal edit, breaking a correct response by one.
/// </summary>
public abstract class Constraint
{
    protected Constraint(string phrase) => Phrase = phrase;

    public abstract ConstraintKind Kind { get; }

    /// <summary>The sentence of the prompt that states the constraint.</summary>
    public string Phrase { get; }

    /// <summary>Kwargs for the verifier, in IFEval's names; a new object on every call (JSON nodes have one parent).</summary>
    public abstract JsonObject Kwargs();

    /// <summary>Short statement of the constraint, e.g. <c>no commas</c>: a refinement's reflection names it by this, and a judgment's check does where <see cref="CheckName"/> falls back to it.</summary>
    public abstract string Label { get; }

    /// <summary>
    /// The name a judgment's check line gives the constraint: the prompt's own sentence (its final period dropped),
    /// so a judge writes it by copying the prompt rather than by translating it into <see cref="Label"/>, which a
    /// tiny judge got wrong (it named keywords and endings the prompt never asked for); <see cref="Label"/> when the
    /// prompt states the constraint inside its task sentence or the sentence holds a colon (the check line's separator).
    /// </summary>
    public string CheckName => Phrase.Length == 0 || Phrase.Contains(':', StringComparison.Ordinal) || Phrase.Contains('\n', StringComparison.Ordinal)
        ? Label
        : Phrase.EndsWith('.') ? Phrase[..^1] : Phrase;

    /// <summary>What a correct fix does, for the refinement's reflection, e.g. <c>delete the commas</c>.</summary>
    public abstract string FixHint { get; }

    /// <summary>What the response shows for this constraint, copied from it where possible.</summary>
    public abstract string Evidence(string response);

    /// <summary>The response changed as little as the teacher can so that this constraint holds.</summary>
    public abstract string Fix(string response, EditContext context);

    /// <summary>A minimal edit of a response that makes this constraint fail, or null when none applies.</summary>
    public abstract string? Break(string response, EditContext context);

    /// <summary>How the constraint shapes the teacher's first draft.</summary>
    public virtual ContentPlan Shape(ContentPlan plan) => plan;

    /// <summary>Sentences that must stay as they are (required openings and endings).</summary>
    public virtual IEnumerable<string> Protected => [];

    /// <summary>Words the constraint requires or forbids, so a composer can reject a word used both ways.</summary>
    public virtual IEnumerable<string> Words => [];

    /// <summary>The verifier's strict verdict: IFEval also requires a non-blank response.</summary>
    public bool IsFollowed(string response) =>
        !string.IsNullOrWhiteSpace(response) && WorldInstructions.Get(Kind.InstructionId).IsFollowed(response, Kwargs());

    public override string ToString() => $"{Kind.Name}: {Label}";

    protected static string Quote(string s) => $"\"{s}\"";
}
