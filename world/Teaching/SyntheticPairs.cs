using SparOrleans.World.Composition;
using SparOrleans.World.Tasks;
using SparOrleans.World.Text;

namespace SparOrleans.World.Teaching;

/// <summary>
/// The paper's Figure 4 data for one synthetic prompt: a negative response, its refinement (the same content with
/// the key difference fixed) and an interfering correct response (correct, but differing in something irrelevant).
/// </summary>
public sealed record SyntheticPair(WorldPrompt Prompt, string Negative, string Refined, string Interfering);

/// <summary>
/// Builds the §3.5 synthetic experiment's pairs. Character sequence: the negative is lowercase with a wrong count;
/// the refined pair keeps it lowercase with the right count; the interfering correct response is uppercase (case
/// is the interfering factor). Start/end story: the negative lacks S1 or S2; the refined pair restores it in the same
/// story; the interfering correct response tells a different story between the same two sentences.
/// </summary>
public static class SyntheticPairs
{
    /// <summary>A pair for a letter-copies or start/end-story prompt, deterministic in (prompt, seed).</summary>
    public static SyntheticPair Create(WorldPrompt prompt, int seed)
    {
        var rng = new Random(WorldSeed.Of(prompt.Text, seed));
        switch (prompt.Task.Type)
        {
            case TaskType.LetterCopies:
                var task = prompt.Task;
                var delta = rng.Next(1, 3) * (task.Count > 3 && rng.Next(2) == 0 ? -1 : 1);
                var negative = SeedTaskGenerator.LetterRun(task.Letter, task.Count + delta, upper: false);
                return new SyntheticPair(prompt, negative, Teacher.Refine(prompt, negative, seed).Response,
                    SeedTaskGenerator.LetterRun(task.Letter, task.Count, upper: true));
            case TaskType.StartEndStory:
                var answer = Teacher.Answer(prompt, seed);
                // Only S1/S2 may break (drop one); extra constraints of the prompt stay satisfied.
                var story = prompt.Constraints.Take(2).ToList();
                var target = rng.Pick(story);
                var broken = target.Break(answer, prompt.EditContext(rng))
                    ?? throw new InvalidOperationException($"cannot drop a required sentence from: {answer}");
                var interfering = Enumerable.Range(1, 20).Select(k => Teacher.Answer(prompt, seed + 1000 * k))
                    .FirstOrDefault(a => !TextEdit.SameSentence(a, answer)) ?? Teacher.Answer(prompt, seed + 1);
                return new SyntheticPair(prompt, broken, Teacher.Refine(prompt, broken, seed).Response, interfering);
            default:
                throw new ArgumentException($"not a synthetic task: {prompt.Task.TypeName}", nameof(prompt));
        }
    }
}
