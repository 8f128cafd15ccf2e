using SparOrleans.Core.Formats;
using SparOrleans.World.Composition;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;
using SparOrleans.World.Text;

namespace SparOrleans.World.Teaching;

/// <summary>A teacher refinement: the revised response, a short reflection, and whether it was a minimal edit.</summary>
/// <param name="Response">The refined response; it follows every constraint of the prompt.</param>
/// <param name="Reflection">What was wrong and what the edit does, e.g. <c>no commas: delete the commas.</c></param>
/// <param name="Fixed">Names of the constraint types that failed before and were fixed.</param>
/// <param name="Minimal">False when minimal edits could not repair the response and the teacher rewrote it.</param>
public sealed record Refinement(string Response, string Reflection, IReadOnlyList<string> Fixed, bool Minimal);

/// <summary>A response that breaks exactly the listed constraints of its prompt.</summary>
/// <param name="Response">The flawed response.</param>
/// <param name="Source">The correct response it was derived from by minimal edits.</param>
/// <param name="Violated">Names of the constraint types it breaks.</param>
public sealed record FlawedResponse(string Response, string Source, IReadOnlyList<string> Violated);

/// <summary>An independently written response (fresh content), correct or not.</summary>
public sealed record SampledResponse(string Response, bool Follows, IReadOnlyList<string> Violated);

/// <summary>
/// The stand-in for the paper's strong LLM. It writes correct responses (draft, then enforce each constraint in
/// the taxonomy's order, then verify), judges with one evidence-first check per constraint (the verdict comes from
/// the verifier), refines by fixing only the failed constraints, and writes near-miss and independent responses.
/// All methods are deterministic in their arguments.
/// </summary>
public static class Teacher
{
    private const int EnforceRounds = 5;
    private const int DraftAttempts = 6;

    /// <summary>A correct response, or null when the teacher cannot satisfy the prompt.</summary>
    /// <param name="seed">Picks the content; different seeds give independent responses.</param>
    public static string? TryAnswer(WorldPrompt prompt, int seed)
    {
        var plan = prompt.Constraints.Aggregate(new ContentPlan(), (p, c) => c.Shape(p));
        for (var attempt = 0; attempt < DraftAttempts; attempt++)
        {
            var rng = new Random(WorldSeed.Mix(WorldSeed.Of(prompt.Text, seed), attempt));
            var draft = SeedTaskGenerator.Draft(prompt.Task, plan, rng);
            var text = Enforce(prompt, draft, rng);
            if (prompt.Follows(text))
            {
                return text;
            }
        }
        return null;
    }

    /// <summary>A correct response; the composer only emits prompts for which one exists.</summary>
    public static string Answer(WorldPrompt prompt, int seed = 0) =>
        TryAnswer(prompt, seed) ?? TryAnswer(prompt, 0)
        ?? throw new InvalidOperationException($"the teacher cannot answer: {prompt.Text}");

    /// <summary>
    /// The teacher's judgment: per constraint, the evidence copied from the response and the verifier's verdict;
    /// the response follows the prompt when every check is satisfied.
    /// </summary>
    public static JudgmentContent Judge(WorldPrompt prompt, string response)
    {
        var checks = prompt.Constraints.Select(c => new ConstraintCheck(c.CheckName, c.Evidence(response), c.IsFollowed(response))).ToList();
        return new JudgmentContent(checks, checks.All(c => c.Satisfied));
    }

    /// <summary>
    /// A minimal revision: only the failed constraints are fixed (a fix that disturbs another constraint is repaired
    /// in the next round). A response that already follows the prompt comes back unchanged.
    /// </summary>
    public static Refinement Refine(WorldPrompt prompt, string response, int seed = 0)
    {
        var failed = prompt.Constraints.Where(c => !c.IsFollowed(response)).ToList();
        if (failed.Count == 0)
        {
            return new Refinement(response, "The response already follows every constraint.", [], Minimal: true);
        }
        var reflection = string.Join(" ", failed.Select(c => $"{c.Label}: {c.FixHint}."));
        var rng = new Random(WorldSeed.Of(response, seed));
        var refined = Enforce(prompt, response, rng);
        if (prompt.Follows(refined))
        {
            return new Refinement(refined, reflection, [.. failed.Select(c => c.Kind.Name)], Minimal: true);
        }
        return new Refinement(Answer(prompt, seed), reflection + " Rewrite the response.", [.. failed.Select(c => c.Kind.Name)], Minimal: false);
    }

    /// <summary>
    /// A near miss: the teacher's answer (content from <paramref name="seed"/>) with minimal edits that break exactly
    /// <paramref name="violations"/> constraints; null when no such edit set is found.
    /// </summary>
    public static FlawedResponse? Flawed(WorldPrompt prompt, int violations, int seed) =>
        Break(prompt, Answer(prompt, seed), violations, seed);

    /// <summary>Minimal edits of a correct <paramref name="response"/> that break exactly <paramref name="violations"/> constraints.</summary>
    public static FlawedResponse? Break(WorldPrompt prompt, string response, int violations, int seed)
    {
        if (violations < 1 || violations > prompt.Constraints.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(violations), violations, $"between 1 and {prompt.Constraints.Count}");
        }
        var rng = new Random(WorldSeed.Of(response, seed + 7919));
        var context = prompt.EditContext(rng);
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var targets = rng.PickDistinct(prompt.Constraints, violations);
            var text = response;
            foreach (var c in targets.OrderBy(c => c.Kind.Order))
            {
                text = c.Break(text, context) ?? "";
                if (text.Length == 0)
                {
                    break;
                }
            }
            if (text.Trim().Length == 0)
            {
                continue;
            }
            var verdicts = prompt.Check(text);
            var broken = prompt.Constraints.Where((_, i) => !verdicts[i]).ToList();
            if (broken.Count == violations && broken.All(targets.Contains))
            {
                return new FlawedResponse(text, response, [.. broken.Select(c => c.Kind.Name)]);
            }
        }
        return null;
    }

    /// <summary>
    /// An independently written response: new content from <paramref name="seed"/>; when <paramref name="correct"/>
    /// is false it breaks one or two constraints (falling back to a correct one when no break applies).
    /// </summary>
    public static SampledResponse IndependentSample(WorldPrompt prompt, int seed, bool correct)
    {
        var answer = Answer(prompt, seed);
        if (prompt.Task.Type == TaskType.LetterCopies && new Random(seed).Next(2) == 0)
        {
            // The letter's case is free: independent samples differ in it, the paper's interfering factor.
            answer = answer.ToUpperInvariant();
        }
        if (correct)
        {
            return new SampledResponse(answer, true, []);
        }
        var k = prompt.Constraints.Count > 1 && new Random(seed).Next(3) == 0 ? 2 : 1;
        var flawed = Break(prompt, answer, k, seed) ?? Break(prompt, answer, 1, seed);
        return flawed is null ? new SampledResponse(answer, true, []) : new SampledResponse(flawed.Response, false, flawed.Violated);
    }

    private static string Enforce(WorldPrompt prompt, string text, Random rng)
    {
        var context = prompt.EditContext(rng);
        var ordered = prompt.Constraints.OrderBy(c => c.Kind.Order).ToList();
        var current = text;
        for (var round = 0; round < EnforceRounds; round++)
        {
            var changed = false;
            foreach (var c in ordered.Where(c => !c.IsFollowed(current)))
            {
                current = c.Fix(current, context);
                changed = true;
            }
            if (!changed)
            {
                break;
            }
        }
        return current;
    }
}
