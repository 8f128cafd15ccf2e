using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator;

/// <summary>A prompt and one response to it, with the verifier's verdict.</summary>
public sealed record PromptResponse(WorldPrompt Prompt, string Response, bool Follows);

/// <summary>
/// How R_0's set is mixed (<see cref="BootstrapData.Plan"/>): the Yes share of its judgments, the teacher's share of
/// them, the refinements' share of the set, and the fewest judgments it has.
/// </summary>
public sealed record RefinerMix(double YesShare, double TeacherShare, double RefineShare, int MinJudgments);

/// <summary>The counts of R_0's set by source (<see cref="BootstrapData.Plan"/>).</summary>
public sealed record RefinerSetPlan(int OwnYes, int OwnNo, int OwnRefinements, int TeacherYes, int TeacherNo, int TeacherRefinements)
{
    public int Total => OwnYes + OwnNo + OwnRefinements + TeacherYes + TeacherNo + TeacherRefinements;
}

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
    /// R_0's set (paper §2.2.2: built from M_0's own responses): every own sample's teacher judgment that fits
    /// <see cref="RefinerMix.YesShare"/>, the teacher's minimal refinements of own failures, and teacher answers (Yes)
    /// and near misses breaking one or two constraints (No, and their refinements) on <paramref name="teacherPrompts"/>
    /// only topping it up (<see cref="Plan"/> has the counts). The order is shuffled.
    /// </summary>
    public static RefinerBootstrapSet RefinerSet(IReadOnlyList<PromptResponse> own, IReadOnlyList<WorldPrompt> teacherPrompts,
        RefinerMix mix, int seed, int threads = 2)
    {
        var random = new Random(seed);
        var yes = own.Where(s => s.Follows).ToArray();
        var no = own.Where(s => !s.Follows).ToArray();
        random.Shuffle(yes);
        random.Shuffle(no);
        var plan = Plan(yes.Length, no.Length, mix);
        var examples = new List<SftExample>();
        examples.AddRange(yes.Take(plan.OwnYes).Select(s => Judgment(s.Prompt, s.Response)));
        examples.AddRange(no.Take(plan.OwnNo).Select(s => Judgment(s.Prompt, s.Response)));
        var ownRefinements = no.Take(plan.OwnRefinements).Select((s, i) => Refinement(s.Prompt, s.Response, seed + i)).OfType<SftExample>().ToList();
        examples.AddRange(ownRefinements);

        // A failure the teacher cannot refine (rare) is made up for by a teacher refinement.
        var needRefine = plan.OwnRefinements + plan.TeacherRefinements - ownRefinements.Count;
        var synthetic = Synthetic(teacherPrompts, Math.Max(plan.TeacherYes, Math.Max(plan.TeacherNo, needRefine)), seed, threads);
        var teacherYes = synthetic.Take(plan.TeacherYes).Select(s => Judgment(s.Prompt, s.Answer)).ToList();
        var teacherNo = synthetic.Take(plan.TeacherNo).Select(s => Judgment(s.Prompt, s.Flawed)).ToList();
        var teacherRefine = synthetic.Skip(synthetic.Count - needRefine).Select(s => s.Refinement).ToList();
        examples.AddRange(teacherYes);
        examples.AddRange(teacherNo);
        examples.AddRange(teacherRefine);
        var all = examples.ToArray();
        random.Shuffle(all);
        return new RefinerBootstrapSet(all, plan.OwnYes, plan.OwnNo, ownRefinements.Count, teacherYes.Count, teacherNo.Count, teacherRefine.Count);
    }

    /// <summary>
    /// The counts of R_0's set from <paramref name="ownYes"/> following and <paramref name="ownNo"/> failing own samples.
    /// Own judgments: the largest subset whose Yes share is at most <see cref="RefinerMix.YesShare"/> and whose No share
    /// is at most 1 − YesShare (the surplus side trimmed). Teacher judgments: <see cref="RefinerMix.TeacherShare"/> of
    /// all judgments, but at least enough for <see cref="RefinerMix.MinJudgments"/> in all (a weak M_0 whose samples
    /// all fail still gets a judge), split by YesShare. Refinements: <see cref="RefinerMix.RefineShare"/> of the set,
    /// own failures first.
    /// </summary>
    public static RefinerSetPlan Plan(int ownYes, int ownNo, RefinerMix mix)
    {
        var y = mix.YesShare;
        // The epsilon keeps an exact ratio (e.g. 0.25 × 4 / 0.75) from flooring one short.
        var nYes = y >= 1 ? ownYes : Math.Min(ownYes, (int)Math.Floor(ownNo * y / (1 - y) + 1e-9));
        var nNo = y <= 0 ? ownNo : Math.Min(ownNo, (int)Math.Floor(ownYes * (1 - y) / y + 1e-9));
        var ownJudgments = nYes + nNo;
        var byShare = mix.TeacherShare >= 1 ? mix.MinJudgments : (int)Math.Round(ownJudgments * mix.TeacherShare / (1 - mix.TeacherShare));
        var teacherJudgments = Math.Max(byShare, mix.MinJudgments - ownJudgments);
        var teacherYes = (int)Math.Round(teacherJudgments * y);
        var refinements = mix.RefineShare >= 1 ? 0 : (int)Math.Round((ownJudgments + teacherJudgments) * mix.RefineShare / (1 - mix.RefineShare));
        var ownRefinements = Math.Min(refinements, ownNo);
        return new RefinerSetPlan(nYes, nNo, ownRefinements, teacherYes, teacherJudgments - teacherYes, refinements - ownRefinements);
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

    /// <summary>Teacher prompts to draw so that <see cref="RefinerSet"/> finds enough near misses for <paramref name="plan"/> (about 1 in 10 spare).</summary>
    internal static int TeacherPromptsFor(RefinerSetPlan plan) =>
        (int)(Math.Max(plan.TeacherYes, Math.Max(plan.TeacherNo, plan.TeacherRefinements + plan.OwnRefinements / 20)) * 1.15) + 16;
}
