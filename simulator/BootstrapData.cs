using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator;

/// <summary>A prompt and one response to it, with the verifier's verdict.</summary>
public sealed record PromptResponse(WorldPrompt Prompt, string Response, bool Follows);

/// <summary>R_0's SFT set and where its examples came from.</summary>
public sealed record RefinerBootstrapSet(
    IReadOnlyList<SftExample> Examples,
    int OwnYes,
    int OwnNo,
    int OwnRefinements,
    int TeacherYes,
    int TeacherNo,
    int TeacherRefinements)
{
    public int YesJudgments => OwnYes + TeacherYes;

    public int NoJudgments => OwnNo + TeacherNo;

    public int Refinements => OwnRefinements + TeacherRefinements;
}

/// <summary>
/// The teacher's data for the bootstrap, in the compact role format: answers for M_0; judgments and minimal
/// refinements for R_0. Everything is deterministic in its seeds; prompt drawing runs on several threads.
/// </summary>
public static class BootstrapData
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    /// <summary>
    /// <paramref name="count"/> distinct prompts of <paramref name="split"/>; prompt i comes from (seed, i) as in
    /// <see cref="PromptComposer.Sample"/>, drawn in parallel, the same result for any thread count.
    /// </summary>
    public static IReadOnlyList<WorldPrompt> Prompts(int count, int seed, WorldSplit split, ComposerOptions? composerOptions = null,
        int threads = 2, CancellationToken cancellationToken = default)
    {
        var composer = new PromptComposer(composerOptions);
        var result = new List<WorldPrompt>(count);
        var texts = new HashSet<string>(StringComparer.Ordinal);
        var next = 0;
        while (result.Count < count)
        {
            var batch = count - result.Count + 8;
            var drawn = new WorldPrompt[batch];
            var offset = next;
            Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellationToken },
                i => drawn[i] = composer.Compose(WorldSeed.Mix(seed, offset + i), split));
            next += batch;
            foreach (var p in drawn)
            {
                if (result.Count < count && texts.Add(p.Text))
                {
                    result.Add(p);
                }
            }
        }
        return result;
    }

    /// <summary>The actor's conversation for a prompt and its target answer.</summary>
    public static IReadOnlyList<ChatMessage> ActorChat(WorldPrompt prompt, string answer) =>
        [.. Format.ActorPrompt(prompt.Text), new(ChatMessage.Assistant, answer)];

    /// <summary>One teacher answer per prompt (content seed = <paramref name="seed"/> mixed with the index).</summary>
    public static IReadOnlyList<string> Answers(IReadOnlyList<WorldPrompt> prompts, int seed, int threads = 2)
    {
        var answers = new string[prompts.Count];
        Parallel.For(0, prompts.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            i => answers[i] = Teacher.Answer(prompts[i], WorldSeed.Mix(seed, i)));
        return answers;
    }

    /// <summary>The teacher's evidence-first judgment of a response, as a judge example (InitialYes / InitialNo).</summary>
    public static SftExample Judgment(WorldPrompt prompt, string response)
    {
        var judgment = Teacher.Judge(prompt, response);
        return new SftExample(judgment.Follows ? RftSource.InitialYes : RftSource.InitialNo,
            [.. Format.JudgePrompt(prompt.Text, response), new(ChatMessage.Assistant, Format.RenderJudgment(judgment))]);
    }

    /// <summary>
    /// The teacher's minimal refinement of a failing response, prompted with the teacher's judgment (the form the
    /// refiner sees in the loop); null when the response already follows the prompt.
    /// </summary>
    public static SftExample? Refinement(WorldPrompt prompt, string response, int seed)
    {
        var judgment = Teacher.Judge(prompt, response);
        if (judgment.Follows)
        {
            return null;
        }
        var refinement = Teacher.Refine(prompt, response, seed);
        return new SftExample(RftSource.Refinement,
            [.. Format.RefinePrompt(prompt.Text, response, Format.RenderJudgment(judgment)),
             new(ChatMessage.Assistant, Format.RenderRefinement(refinement.Reflection, refinement.Response))]);
    }

    /// <summary>
    /// R_0's set of <paramref name="total"/> examples: <paramref name="refineShare"/> refinements, the rest
    /// judgments balanced Yes/No. M_0's own samples come first (judgments balanced by trimming the larger side;
    /// refinements of its failures), teacher answers (Yes) and near misses breaking one or two constraints (No,
    /// and their refinements) on <paramref name="teacherPrompts"/> fill the rest. The order is shuffled.
    /// </summary>
    public static RefinerBootstrapSet RefinerSet(IReadOnlyList<PromptResponse> own, IReadOnlyList<WorldPrompt> teacherPrompts,
        int total, double refineShare, int seed, int threads = 2)
    {
        var judgeHalf = (total - (int)Math.Round(total * refineShare)) / 2;
        // Refinements take the odd example an odd judgment count leaves over, so the set is exactly `total`.
        var refineTarget = total - 2 * judgeHalf;
        var random = new Random(seed);
        var yes = own.Where(s => s.Follows).ToArray();
        var no = own.Where(s => !s.Follows).ToArray();
        random.Shuffle(yes);
        random.Shuffle(no);
        var balanced = Math.Min(judgeHalf, Math.Min(yes.Length, no.Length));
        var examples = new List<SftExample>();
        examples.AddRange(yes.Take(balanced).Select(s => Judgment(s.Prompt, s.Response)));
        examples.AddRange(no.Take(balanced).Select(s => Judgment(s.Prompt, s.Response)));
        var ownRefinements = no.Take(refineTarget).Select((s, i) => Refinement(s.Prompt, s.Response, seed + i)).OfType<SftExample>().ToList();
        examples.AddRange(ownRefinements);

        var needYes = judgeHalf - balanced;
        var needNo = judgeHalf - balanced;
        var needRefine = refineTarget - ownRefinements.Count;
        var synthetic = Synthetic(teacherPrompts, Math.Max(needYes, Math.Max(needNo, needRefine)), seed, threads);
        var teacherYes = synthetic.Take(needYes).Select(s => Judgment(s.Prompt, s.Answer)).ToList();
        var teacherNo = synthetic.Take(needNo).Select(s => Judgment(s.Prompt, s.Flawed)).ToList();
        var teacherRefine = synthetic.Skip(synthetic.Count - needRefine).Select(s => s.Refinement).ToList();
        examples.AddRange(teacherYes);
        examples.AddRange(teacherNo);
        examples.AddRange(teacherRefine);
        var all = examples.ToArray();
        random.Shuffle(all);
        return new RefinerBootstrapSet(all, balanced, balanced, ownRefinements.Count, teacherYes.Count, teacherNo.Count, teacherRefine.Count);
    }

    private sealed record SyntheticCase(WorldPrompt Prompt, string Answer, string Flawed, SftExample Refinement);

    // Teacher answer, near miss and its refinement per prompt, for the first `needed` prompts that yield a near miss.
    private static List<SyntheticCase> Synthetic(IReadOnlyList<WorldPrompt> prompts, int needed, int seed, int threads)
    {
        if (needed <= 0)
        {
            return [];
        }
        var cases = new SyntheticCase?[prompts.Count];
        Parallel.For(0, prompts.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            var p = prompts[i];
            var caseSeed = WorldSeed.Mix(seed, i);
            var violations = p.Level > 1 && new Random(caseSeed).Next(3) == 0 ? 2 : 1;
            var flawed = Teacher.Flawed(p, violations, caseSeed) ?? Teacher.Flawed(p, 1, caseSeed);
            if (flawed is not null && Refinement(p, flawed.Response, caseSeed) is { } refinement)
            {
                cases[i] = new SyntheticCase(p, Teacher.Answer(p, caseSeed + 1), flawed.Response, refinement);
            }
        });
        var found = cases.OfType<SyntheticCase>().Take(needed).ToList();
        if (found.Count < needed)
        {
            throw new InvalidOperationException($"only {found.Count} teacher near misses from {prompts.Count} prompts ({needed} needed): draw more prompts");
        }
        return found;
    }

    /// <summary>Teacher prompts to draw so that <see cref="RefinerSet"/> finds enough near misses (about 1 in 10 spare).</summary>
    internal static int TeacherPromptsFor(int total, double refineShare) => (int)(Math.Max(total / 2, total * refineShare) * 1.15) + 16;
}
