using SparOrleans.Core.Simulation;

namespace SparOrleans.Core.Tests.Simulation;

public sealed class LetterTaskTests
{
    [Theory]
    [InlineData("aaaa", 4, 'a', true)]
    [InlineData("AaAa", 4, 'a', true)]
    [InlineData(" AAAA\n", 4, 'a', true)]
    [InlineData("aaa", 4, 'a', false)]
    [InlineData("aaaaa", 4, 'a', false)]
    [InlineData("aaba", 4, 'a', false)]
    [InlineData("aa aa", 4, 'a', false)]
    [InlineData("", 1, 'a', false)]
    public void Follows_CountAndLetterInAnyCase_OnlyExactCountPasses(string response, int count, char letter, bool expected) =>
        Assert.Equal(expected, LetterTask.Follows(response, count, letter));

    [Theory]
    [InlineData("aaaa", 0)]
    [InlineData("AAAA", 1)]
    [InlineData("AAaa", 0.5)]
    [InlineData("", 0)]
    [InlineData("A1 a!", 0.5)]
    public void UppercaseShare_Letters_CountsOnlyLetters(string response, double expected) =>
        Assert.Equal(expected, LetterTask.UppercaseShare(response), 6);

    [Fact]
    public void Negative_AnyCombo_IsLowercaseOneOrTwoOffAndNeverEmpty()
    {
        var random = new Random(3);
        foreach (var (count, letter) in LetterTask.Combos(12, seed: 1))
        {
            var negative = LetterTask.Negative(count, letter, random);
            Assert.False(LetterTask.Follows(negative, count, letter));
            Assert.InRange(Math.Abs(negative.Length - count), 1, 2);
            Assert.NotEmpty(negative);
            Assert.Equal(0, LetterTask.UppercaseShare(negative));
        }
    }

    [Fact]
    public void Pairs_SameNegative_RefinementDiffersOnlyInCountInterferingAlsoInCase()
    {
        var negative = LetterTask.Negative(5, 'q', new Random(1));
        var refinement = LetterTask.RefinementPair(5, 'q', negative);
        var interfering = LetterTask.InterferingPair(5, 'q', negative);
        Assert.Equal("Write 5 letters q", refinement.Prompt);
        Assert.Equal(refinement.Prompt, interfering.Prompt);
        Assert.Equal(negative, refinement.Rejected);
        Assert.Equal(negative, interfering.Rejected);
        Assert.True(LetterTask.Follows(refinement.Chosen, 5, 'q'));
        Assert.True(LetterTask.Follows(interfering.Chosen, 5, 'q'));
        Assert.Equal(0, LetterTask.UppercaseShare(refinement.Chosen));
        Assert.Equal(1, LetterTask.UppercaseShare(interfering.Chosen));
    }

    [Fact]
    public void Combos_Seeded_CoverEveryPairOnceInASeededOrder()
    {
        var first = LetterTask.Combos(12, seed: 4);
        Assert.Equal(12 * 26, first.Distinct().Count());
        Assert.Equal(first, LetterTask.Combos(12, seed: 4));
        Assert.NotEqual(first, LetterTask.Combos(12, seed: 5));
    }
}
