using System.Text;
using System.Text.Json.Nodes;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;

namespace SparOrleans.World.Composition;

/// <summary>Which side of the train / held-out partition a prompt is on.</summary>
public enum WorldSplit
{
    Train,
    HeldOut,
}

/// <summary>
/// A composed prompt: the seed task, its constraints (the main one first), the prompt text, and the seed that
/// produced it. The difficulty level is the number of constraints (FollowBench style, 1–5).
/// </summary>
public sealed record WorldPrompt(string Text, SeedTask Task, IReadOnlyList<Constraint> Constraints, WorldSplit Split, int Seed)
{
    public int Level => Constraints.Count;

    public Constraint Main => Constraints[0];

    /// <summary>The main constraint's family, the prompt's family in reports.</summary>
    public ConstraintFamily Family => Main.Kind.Family;

    public IReadOnlyList<string> InstructionIds => [.. Constraints.Select(c => c.Kind.InstructionId)];

    /// <summary>One kwargs object per instruction, IFEval's layout (an empty object for a check without kwargs).</summary>
    public IReadOnlyList<JsonObject> Kwargs() => [.. Constraints.Select(c => c.Kwargs())];

    /// <summary>The verifier's verdict per constraint, in order.</summary>
    public IReadOnlyList<bool> Check(string response) => [.. Constraints.Select(c => c.IsFollowed(response))];

    /// <summary>True when the response follows every constraint.</summary>
    public bool Follows(string response) => Constraints.All(c => c.IsFollowed(response));

    /// <summary>The sentences no edit may touch (required openings and endings).</summary>
    public IReadOnlyList<string> ProtectedSentences => [.. Constraints.SelectMany(c => c.Protected)];

    /// <summary>An edit context for the teacher's edits on this prompt.</summary>
    public EditContext EditContext(Random rng) => new(Task, ProtectedSentences, rng);

    /// <summary>
    /// What decides the split: the task prompt and each constraint's verifier id and kwargs. Every rephrasing of a
    /// held-out instance is therefore held out too, so train and held-out never share a prompt text.
    /// </summary>
    public string CanonicalKey =>
        Task.Prompt + "|" + string.Join("|", Constraints.Select(c => c.Kind.InstructionId + c.Kwargs().ToJsonString()));

    /// <summary>The split a canonical key belongs to: 1 in 16 keys (by a stable 64-bit FNV-1a hash) is held out.</summary>
    public static WorldSplit SplitOf(string canonicalKey)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(canonicalKey))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash % 16 == 0 ? WorldSplit.HeldOut : WorldSplit.Train;
    }
}

/// <summary>Stable seed arithmetic (System.Random with an int seed is reproducible across runs and platforms).</summary>
public static class WorldSeed
{
    /// <summary>A well-mixed seed from two values (SplitMix64 finalizer), non-negative.</summary>
    public static int Mix(int a, int b)
    {
        var z = ((ulong)(uint)a << 32 | (uint)b) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>A seed from a text and a number, for edits that must be reproducible per response.</summary>
    public static int Of(string text, int salt)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return Mix((int)hash, salt);
    }
}
