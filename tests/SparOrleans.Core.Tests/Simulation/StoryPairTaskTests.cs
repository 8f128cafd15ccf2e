using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Simulation;

public sealed class StoryPairTaskTests
{
    private static readonly StoryPairTask Task = new();
    private static readonly (string Start, string End) Item = ("A cat ran home.", "The fox saw a star.");

    [Theory]
    [InlineData("A cat ran home. The dog sat down. A bird ate bread. The fox saw a star.", true)]
    [InlineData("  A cat ran home. The dog sat down. The fox saw a star.\n", true)]
    [InlineData("The dog sat down. A bird ate bread. The fox saw a star.", false)]
    [InlineData("A cat ran home. The dog sat down. A bird ate bread.", false)]
    [InlineData("A cat ran home. The fox saw a star.", false)]
    [InlineData("A cat ran home.The fox saw a star.", false)]
    [InlineData("A cat ran home. The fox saw a star. Again.", false)]
    public void Follows_StartAndEndSentencesAroundABody_AreRequiredAsWholeSentences(string response, bool expected) =>
        Assert.Equal(expected, Task.Follows(Item, response));

    [Fact]
    public void Items_AllOrderedPairsOfDistinctSentences_InASeededOrder()
    {
        var items = Task.Items(seed: 3);

        Assert.Equal(16 * 15, items.Count);
        Assert.Equal(items.Count, items.Distinct().Count());
        Assert.All(items, i => Assert.NotEqual(i.Start, i.End));
        Assert.Equal(items, Task.Items(seed: 3));
        Assert.NotEqual(items, Task.Items(seed: 4));
    }

    [Fact]
    public void Answer_FollowsWithTwoBodySentences()
    {
        var random = new Random(1);
        foreach (var item in Task.Items(seed: 1).Take(50))
        {
            var answer = Task.Answer(item, random);
            Assert.True(Task.Follows(item, answer), answer);
            Assert.Equal(4, answer.Count(c => c == '.'));
        }
    }

    [Fact]
    public void Pairs_RefinementKeepsTheNegativesBodyInterferingChangesIt()
    {
        var random = new Random(2);
        foreach (var item in Task.Items(seed: 2).Take(50))
        {
            var negative = Task.Negative(item, random);
            var refinement = Task.RefinementPair(item, negative);
            var interfering = Task.InterferingPair(item, negative, random);

            Assert.False(Task.Follows(item, negative), negative);
            Assert.True(Task.Follows(item, refinement.Chosen), refinement.Chosen);
            Assert.True(Task.Follows(item, interfering.Chosen), interfering.Chosen);
            Assert.Equal(negative, refinement.Rejected);
            Assert.Equal(negative, interfering.Rejected);
            // The refinement adds back exactly the missing sentence; the interfering answer tells another story.
            Assert.True(refinement.Chosen.Contains(negative, StringComparison.Ordinal), $"{negative} -> {refinement.Chosen}");
            Assert.False(interfering.Chosen.Contains(negative, StringComparison.Ordinal), $"{negative} -> {interfering.Chosen}");
            Assert.Equal(Task.Instruction(item), refinement.Prompt);
        }
    }
}
