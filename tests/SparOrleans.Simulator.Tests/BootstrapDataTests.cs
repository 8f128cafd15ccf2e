using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests;

public class BootstrapDataTests
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    private static readonly RefinerMix Mix = new(YesShare: 0.35, TeacherShare: 0.2, RefineShare: 0.2, MinJudgments: 20);

    private static RefinerBootstrapSet BuildSet(RefinerMix mix, out List<PromptResponse> own)
    {
        var prompts = BootstrapData.Prompts(40, 5, WorldSplit.Train);
        own = [];
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            // Own samples: mostly failing, as a young actor's are; teacher data tops them up.
            var response = i % 4 == 0 ? Teacher.Answer(p, i) : Teacher.Flawed(p, 1, i)?.Response ?? Teacher.Answer(p, i);
            own.Add(new PromptResponse(p, response, p.Follows(response)));
        }
        var plan = BootstrapData.Plan(own.Count(o => o.Follows), own.Count(o => !o.Follows), mix);
        var teacherPrompts = BootstrapData.Prompts(BootstrapData.TeacherPromptsFor(plan), 6, WorldSplit.Train);
        return BootstrapData.RefinerSet(own, teacherPrompts, mix, seed: 3);
    }

    [Fact]
    public void RefinerSet_MixedOwnSamples_JudgmentsParseToTheTeachersVerdict()
    {
        var set = BuildSet(Mix, out _);
        var judgments = set.Examples.Where(e => e.Source != RftSource.Refinement).ToList();
        Assert.NotEmpty(judgments);
        foreach (var e in judgments)
        {
            var verdict = Format.ParseVerdict(e.Messages[^1].Content);
            Assert.Equal(e.IsYesJudgment ? Verdict.Yes : Verdict.No, verdict);
            Assert.StartsWith("J|", e.Messages[0].Content);
        }
    }

    [Fact]
    public void RefinerSet_MixedOwnSamples_FollowsThePlanAndOwnSamplesAreMostOfIt()
    {
        var set = BuildSet(Mix, out var own);
        var plan = BootstrapData.Plan(own.Count(o => o.Follows), own.Count(o => !o.Follows), Mix);
        Assert.Equal(plan.Total, set.Examples.Count);
        Assert.Equal((plan.OwnYes, plan.OwnNo, plan.OwnRefinements, plan.TeacherYes, plan.TeacherNo, plan.TeacherRefinements),
            (set.OwnYes, set.OwnNo, set.OwnRefinements, set.TeacherYes, set.TeacherNo, set.TeacherRefinements));
        Assert.Equal(set.Examples.Count(e => e.IsYesJudgment), set.YesJudgments);
        Assert.Equal(set.Examples.Count(e => e.IsNoJudgment), set.NoJudgments);
        Assert.True(set.OwnYes + set.OwnNo + set.OwnRefinements > set.Examples.Count / 2);
        Assert.InRange((double)set.YesJudgments / (set.YesJudgments + set.NoJudgments), 0.3, 0.4);
    }

    // Hand-worked: y = 0.35 of judgments Yes, teacher 0.2 of judgments, refinements 0.2 of the set.
    // Own 1000 Yes / 2000 No: Yes ≤ 2000 × 0.35 / 0.65 = 1076.9 → all 1000; No ≤ 1000 × 0.65 / 0.35 = 1857.1 → 1857.
    // Teacher 2857 × 0.2 / 0.8 = 714.25 → 714, Yes 714 × 0.35 = 249.9 → 250, No 464. Refinements (2857 + 714) × 0.25 = 892.75 → 893, all own.
    [Theory]
    [InlineData(1000, 2000, 0.35, 0.2, 0.2, 0, 1000, 1857, 893, 250, 464, 0)]
    // Balanced, no teacher, no refinements: the larger side trimmed to the smaller.
    [InlineData(30, 10, 0.5, 0, 0, 0, 10, 10, 0, 0, 0, 0)]
    // No own Yes: no own judgment fits the share; the teacher supplies the minimum 40 (14 Yes, 26 No), refinements 10 of own failures.
    [InlineData(0, 10, 0.35, 0.2, 0.2, 40, 0, 0, 10, 14, 26, 0)]
    // Few own failures: teacher 5 × 0.25 = 1.25 → 1 judgment (0.6 → 1 Yes, 0 No); refinements (5 + 1) × 0.5 / 0.5 = 6: 2 own, 4 teacher.
    [InlineData(3, 2, 0.6, 0.2, 0.5, 0, 3, 2, 2, 1, 0, 4)]
    public void Plan_HandWorkedCounts(int ownYes, int ownNo, double yesShare, double teacherShare, double refineShare, int minJudgments,
        int planOwnYes, int planOwnNo, int planOwnRefinements, int planTeacherYes, int planTeacherNo, int planTeacherRefinements)
    {
        var plan = BootstrapData.Plan(ownYes, ownNo, new RefinerMix(yesShare, teacherShare, refineShare, minJudgments));
        Assert.Equal(new RefinerSetPlan(planOwnYes, planOwnNo, planOwnRefinements, planTeacherYes, planTeacherNo, planTeacherRefinements), plan);
    }

    [Fact]
    public void RefinerSftFor_SmallSet_RaisesEpochsUntilMaxSteps()
    {
        var sft = SimulatorOptions.Default.RefinerSft;
        // 1200 × 16 = 19,200 example visits over 4,464 examples: ⌈4.3⌉ = 5 epochs, capped at 1200 steps.
        var raised = Bootstrap.RefinerSftFor(sft, 4464);
        Assert.Equal(5, raised.Epochs);
        Assert.Equal(1200, raised.TotalSteps(4464));
        Assert.Equal(sft.Epochs, Bootstrap.RefinerSftFor(sft, 40000).Epochs);
    }

    [Fact]
    public void RefinerSet_Refinements_ParseAndFollowTheirPrompt()
    {
        var set = BuildSet(Mix, out var own);
        var prompts = own.Select(o => o.Prompt).ToDictionary(p => p.Text);
        var refinements = set.Examples.Where(e => e.Source == RftSource.Refinement).ToList();
        Assert.NotEmpty(refinements);
        foreach (var e in refinements)
        {
            var user = e.Messages[0].Content;
            Assert.StartsWith("R|", user);
            Assert.Contains("|no", user);
            var refined = Format.ParseRefinement(e.Messages[^1].Content);
            Assert.NotNull(refined);
            var promptText = user.Split('|')[1];
            if (prompts.TryGetValue(promptText, out var prompt))
            {
                Assert.True(prompt.Follows(refined!), $"refinement does not follow: {refined}");
            }
        }
    }

    [Fact]
    public void Prompts_SameSeedAnyThreads_SameDistinctPrompts()
    {
        var one = BootstrapData.Prompts(30, 11, WorldSplit.Train, threads: 1);
        var two = BootstrapData.Prompts(30, 11, WorldSplit.Train, threads: 2);
        Assert.Equal(one.Select(p => p.Text), two.Select(p => p.Text));
        Assert.Equal(30, one.Select(p => p.Text).Distinct().Count());
        Assert.All(one, p => Assert.Equal(WorldSplit.Train, p.Split));
    }

    [Fact]
    public void Encode_Judgment_WeighsOnlyTheDecidingBytes()
    {
        var prompt = BootstrapData.Prompts(1, 21, WorldSplit.Train, threads: 1)[0];
        var flawed = Teacher.Flawed(prompt, 1, 0)!.Response;
        var example = BootstrapData.Judgment(prompt, flawed);
        var template = new CompactChatTemplate();
        var sequence = RefinerSequences.Encode(template, example, 4);
        var weighted = Enumerable.Range(0, sequence.Weights.Length).Where(i => sequence.Weights[i] == 4).ToList();
        var text = template.Tokenizer.Decode(weighted.Select(i => sequence.Tokens[i]));
        var judgment = example.Messages[^1].Content;
        var checks = judgment.Split('\n').Length - 1;
        var expected = string.Concat(judgment.Split('\n').Take(checks).Select(l => l[^2..])) + "no";
        Assert.Equal(expected, text);
        Assert.All(Enumerable.Range(0, sequence.Weights.Length).Except(weighted), i => Assert.True(sequence.Weights[i] is 0 or 1));
    }

    [Fact]
    public void Encode_Refinement_KeepsPlainWeights()
    {
        var prompt = BootstrapData.Prompts(1, 22, WorldSplit.Train, threads: 1)[0];
        var example = BootstrapData.Refinement(prompt, Teacher.Flawed(prompt, 1, 0)!.Response, 0)!;
        var sequence = RefinerSequences.Encode(new CompactChatTemplate(), example, 4);
        Assert.All(sequence.Weights, w => Assert.True(w is 0 or 1));
        Assert.Equal(sequence.Target.Count(t => t), sequence.Weights.Count(w => w == 1));
    }
}
