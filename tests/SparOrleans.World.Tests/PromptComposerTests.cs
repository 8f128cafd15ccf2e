using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.World.Composition;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;

namespace SparOrleans.World.Tests;

public class PromptComposerTests
{
    private static readonly PromptComposer Composer = new();

    [Fact]
    public void Compose_SameSeed_SamePrompt()
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var a = Composer.Compose(seed, WorldSplit.Train);
            var b = new PromptComposer().Compose(seed, WorldSplit.Train);
            Assert.Equal(a.Text, b.Text);
            Assert.Equal(a.InstructionIds, b.InstructionIds);
            Assert.Equal(a.Kwargs().Select(k => k.ToJsonString()), b.Kwargs().Select(k => k.ToJsonString()));
        }
    }

    [Fact]
    public void Sample_DifferentSeeds_DifferentPrompts()
    {
        var a = Composer.Sample(100, 1, WorldSplit.Train).Select(p => p.Text);
        var b = Composer.Sample(100, 2, WorldSplit.Train).Select(p => p.Text);

        Assert.True(a.Intersect(b).Count() < 5);
    }

    [Fact]
    public void Sample_TrainAndHeldOut_NeverShareAPromptText()
    {
        var train = Composer.Sample(2500, 3, WorldSplit.Train).Select(p => p.Text).ToHashSet();
        var heldOut = Composer.Sample(500, 3, WorldSplit.HeldOut);

        Assert.Equal(500, heldOut.Select(p => p.Text).Distinct().Count());
        Assert.DoesNotContain(heldOut, p => train.Contains(p.Text));
        Assert.All(heldOut, p => Assert.Equal(WorldSplit.HeldOut, WorldPrompt.SplitOf(p.CanonicalKey)));
    }

    [Fact]
    public void Sample_Prompts_HaveNoConflictingOrRepeatedConstraints()
    {
        foreach (var p in Composer.Sample(2000, 4, WorldSplit.Train))
        {
            Assert.True(Taxonomy.Compatible(p.Constraints), p.Text);
            Assert.Equal(p.Constraints.Count, p.Constraints.Select(c => c.Kind.Name).Distinct().Count());
            var names = p.Constraints.Select(c => c.Kind.Name).ToHashSet();
            Assert.False(names.Contains("lowercase") && names.Contains("uppercase"), p.Text);
            Assert.False(names.Contains("lowercase") && names.Contains("end_sentence"), p.Text);
            var required = p.Constraints.SelectMany(c => c is KeywordsConstraint k ? k.Keywords : []).ToHashSet();
            Assert.DoesNotContain(p.Constraints.OfType<ForbiddenWordsConstraint>().SelectMany(f => f.Forbidden), required.Contains);
        }
    }

    [Fact]
    public void Sample_NoLevelGiven_LevelsRoughlyUniform()
    {
        var prompts = Composer.Sample(2500, 5, WorldSplit.Train);

        foreach (var level in Enumerable.Range(1, 5))
        {
            var share = prompts.Count(p => p.Level == level) / 2500.0;
            Assert.InRange(share, 0.15, 0.25);
        }
        foreach (var family in Enum.GetValues<ConstraintFamily>())
        {
            Assert.InRange(prompts.Count(p => p.Family == family) / 2500.0, 0.2, 0.5);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void Sample_FixedLevel_EveryPromptHasThatManyConstraints(int level)
    {
        Assert.All(Composer.Sample(200, 6, WorldSplit.Train, level), p => Assert.Equal(level, p.Level));
    }

    [Fact]
    public void Compose_Prompt_StatesEachConstraintAndKeepsTheMainFirst()
    {
        foreach (var p in Composer.Sample(300, 7, WorldSplit.Train).Where(p => !p.Task.IsSynthetic))
        {
            Assert.StartsWith(p.Task.Prompt, p.Text);
            Assert.All(p.Constraints, c => Assert.Contains(c.Phrase, p.Text));
            Assert.True(p.Text.IndexOf(p.Main.Phrase, StringComparison.Ordinal) <= p.Text.IndexOf(p.Constraints[^1].Phrase, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Compose_SyntheticTasks_CarryTheirOwnConstraints()
    {
        var copies = Composer.Sample(50, 8, WorldSplit.Train, taskType: TaskType.LetterCopies);
        var stories = Composer.Sample(50, 8, WorldSplit.Train, level: 2, taskType: TaskType.StartEndStory);

        Assert.All(copies, p => Assert.Equal(["sim:letter_copies"], p.InstructionIds));
        Assert.All(stories, p => Assert.Equal(["startend:end_checker", "combination:repeat_prompt"], p.InstructionIds));
    }

    [Fact]
    public void Compose_BadLevel_ThrowsUserInputException()
    {
        Assert.Throws<UserInputException>(() => Composer.Compose(1, WorldSplit.Train, level: 6));
        Assert.Throws<UserInputException>(() => Composer.Compose(1, WorldSplit.Train, level: 2, taskType: TaskType.LetterCopies));
    }

    [Fact]
    public void Sample_MoreThanTheTaskSpaceHolds_ThrowsUserInputException()
    {
        // 26 letters x 10 counts: only 260 distinct letter-copies prompts exist.
        var e = Assert.Throws<UserInputException>(() => Composer.Sample(300, 1, WorldSplit.Train, taskType: TaskType.LetterCopies));

        Assert.Contains("distinct", e.Message);
    }

    [Fact]
    public void Options_BadWeights_AreRejectedWithNamedProblems()
    {
        var e = Assert.Throws<InvalidOptionsException>(() => new PromptComposer(new ComposerOptions(LevelWeights: [1, 1], MaxAttempts: 0)));

        Assert.Contains(e.ProblemList, p => p.Contains("LevelWeights"));
        Assert.Contains(e.ProblemList, p => p.Contains("MaxAttempts"));
    }

    [Fact]
    public void Sample_Responses_AreShort()
    {
        var lengths = Composer.Sample(500, 9, WorldSplit.Train).Select(p => Teaching.Teacher.Answer(p).Length).Order().ToList();

        Assert.InRange(lengths[lengths.Count / 2], 60, 200);
        Assert.True(lengths[(int)(lengths.Count * 0.95)] < 260, $"95th percentile {lengths[(int)(lengths.Count * 0.95)]}");
    }
}
