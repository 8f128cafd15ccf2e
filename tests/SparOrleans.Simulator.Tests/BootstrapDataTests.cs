using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests;

public class BootstrapDataTests
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    private static RefinerBootstrapSet BuildSet(int total, double refineShare, out List<PromptResponse> own)
    {
        var prompts = BootstrapData.Prompts(40, 5, WorldSplit.Train);
        own = [];
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            // Own samples: mostly failing, as a young actor's are; teacher data fills the rest.
            var response = i % 4 == 0 ? Teacher.Answer(p, i) : Teacher.Flawed(p, 1, i)?.Response ?? Teacher.Answer(p, i);
            own.Add(new PromptResponse(p, response, p.Follows(response)));
        }
        var teacherPrompts = BootstrapData.Prompts(BootstrapData.TeacherPromptsFor(total, refineShare), 6, WorldSplit.Train);
        return BootstrapData.RefinerSet(own, teacherPrompts, total, refineShare, seed: 3);
    }

    [Fact]
    public void RefinerSet_MixedOwnSamples_JudgmentsParseToTheTeachersVerdict()
    {
        var set = BuildSet(120, 0.35, out _);
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
    public void RefinerSet_MixedOwnSamples_IsBalancedAndSized()
    {
        var set = BuildSet(120, 0.35, out var own);
        Assert.Equal(120, set.Examples.Count);
        Assert.Equal(set.YesJudgments, set.NoJudgments);
        Assert.Equal(42, set.Refinements);
        Assert.Equal(Math.Min(39, own.Count(o => o.Follows)), set.OwnYes);
        Assert.Equal(set.Examples.Count(e => e.IsYesJudgment), set.YesJudgments);
        Assert.True(set.OwnRefinements > 0 && set.TeacherYes > 0);
    }

    [Theory]
    [InlineData(24, 0.2, 6)]
    [InlineData(25, 0.2, 5)]
    [InlineData(24, 0.35, 8)]
    public void RefinerSet_OddJudgmentCount_RefinementsTakeTheSpareExample(int total, double refineShare, int refinements)
    {
        var set = BuildSet(total, refineShare, out _);
        Assert.Equal(total, set.Examples.Count);
        Assert.Equal(set.YesJudgments, set.NoJudgments);
        Assert.Equal(refinements, set.Refinements);
    }

    [Fact]
    public void RefinerSet_Refinements_ParseAndFollowTheirPrompt()
    {
        var set = BuildSet(120, 0.35, out var own);
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
