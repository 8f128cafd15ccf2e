using SparOrleans.Core.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Tasks;
using SparOrleans.World.Teaching;

namespace SparOrleans.World.Tests;

public class SyntheticPairsTests
{
    private static readonly PromptComposer Composer = new();

    [Fact]
    public void Create_LetterCopies_NegativeLowercaseWrongRefinedLowercaseRightInterferingUppercase()
    {
        foreach (var (p, i) in Composer.Sample(100, 1, WorldSplit.Train, taskType: TaskType.LetterCopies).Select((p, i) => (p, i)))
        {
            var pair = SyntheticPairs.Create(p, i);

            Assert.False(p.Follows(pair.Negative));
            Assert.True(p.Follows(pair.Refined));
            Assert.True(p.Follows(pair.Interfering));
            Assert.Equal(pair.Negative, pair.Negative.ToLowerInvariant());
            Assert.Equal(pair.Refined, pair.Refined.ToLowerInvariant());
            Assert.Equal(pair.Interfering, pair.Interfering.ToUpperInvariant());
        }
    }

    [Fact]
    public void Create_StartEndStory_NegativeLacksOneSentenceRefinedKeepsTheStory()
    {
        double refinedSim = 0, interferingSim = 0;
        var prompts = Composer.Sample(100, 2, WorldSplit.Train, level: 2, taskType: TaskType.StartEndStory);
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            var pair = SyntheticPairs.Create(p, i);

            Assert.False(p.Follows(pair.Negative));
            var missing = !pair.Negative.Contains(p.Task.FirstSentence) || !pair.Negative.Contains(p.Task.LastSentence);
            Assert.True(missing, pair.Negative);
            Assert.True(p.Follows(pair.Refined));
            Assert.True(p.Follows(pair.Interfering));
            Assert.Contains(pair.Negative, pair.Refined);
            refinedSim += StringSimilarity.Ratio(pair.Negative, pair.Refined);
            interferingSim += StringSimilarity.Ratio(pair.Negative, pair.Interfering);
        }
        Assert.True(refinedSim > interferingSim);
    }

    [Fact]
    public void Create_OrdinaryTask_Throws()
    {
        var p = Composer.Compose(1, WorldSplit.Train, taskType: TaskType.Story);

        Assert.Throws<ArgumentException>(() => SyntheticPairs.Create(p, 0));
    }
}
