using SparOrleans.Engine.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator;

/// <summary>
/// The simulator's subword vocabulary: a byte-level BPE learned from the teacher's own texts in every role (actor
/// answers, evidence-first judgments of answers and near misses, refinements), so the world's words, the judgment's
/// check names and the role markers each become one or a few tokens. Sequences get several times shorter, which
/// buys the bootstrap that many more examples per second and shortens every generation of the loop
/// (measured in simulator/README.md). Lossless: text outside the corpus falls back to bytes.
/// </summary>
public static class SubwordVocabulary
{
    /// <summary>Prompts whose texts make up the corpus (the merges settle long before; more only costs time).</summary>
    public const int CorpusPrompts = 1500;

    /// <summary>Learns <paramref name="merges"/> merges from the teacher's texts on <paramref name="prompts"/> (at most <see cref="CorpusPrompts"/>); deterministic.</summary>
    public static HfBpeTokenizer Train(IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> answers, int merges)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(merges);
        return SubwordTrainer.Train(Corpus(prompts, answers), merges);
    }

    /// <summary>Every message of the actor, judge and refiner examples the teacher writes for the first prompts.</summary>
    public static IEnumerable<string> Corpus(IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> answers)
    {
        for (var i = 0; i < Math.Min(CorpusPrompts, prompts.Count); i++)
        {
            var prompt = prompts[i];
            foreach (var message in BootstrapData.ActorChat(prompt, answers[i]))
            {
                yield return message.Content;
            }
            foreach (var message in BootstrapData.Judgment(prompt, answers[i]).Messages)
            {
                yield return message.Content;
            }
            if (Teacher.Flawed(prompt, 1, i) is not { } flawed)
            {
                continue;
            }
            foreach (var message in BootstrapData.Judgment(prompt, flawed.Response).Messages)
            {
                yield return message.Content;
            }
            if (BootstrapData.Refinement(prompt, flawed.Response, i) is { } refinement)
            {
                yield return refinement.Messages[^1].Content;
            }
        }
    }
}
