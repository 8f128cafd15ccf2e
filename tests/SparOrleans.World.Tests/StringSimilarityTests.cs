using SparOrleans.Core.Text;

namespace SparOrleans.World.Tests;

public class StringSimilarityTests
{
    // Expected values computed with CPython 3 difflib.SequenceMatcher(None, a, b).ratio().
    [Theory]
    [InlineData("abcd", "bcde", 0.75)]
    [InlineData("the fox ran to the river.", "the fox ran to the forest.", 0.8627450980392157)]
    [InlineData("hello world", "world hello", 0.45454545454545453)]
    [InlineData("é😀x", "e😀x", 0.6666666666666666)]
    [InlineData("", "", 1.0)]
    [InlineData("a", "", 0.0)]
    public void Ratio_KnownPairs_MatchesDifflib(string a, string b, double expected)
    {
        Assert.Equal(expected, StringSimilarity.Ratio(a, b), 12);
    }

    [Fact]
    public void Ratio_LongSecondString_AppliesDifflibAutojunk()
    {
        var a = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 6));
        var b = string.Concat(Enumerable.Repeat("the quick brown cat jumps over the lazy dog! ", 5)) + "tail";

        // difflib gives 0.0641 with autojunk (b has 229 >= 200 characters) and 0.8337 without it.
        Assert.Equal(0.06412825651302605, StringSimilarity.Ratio(a, b), 12);
    }

    [Fact]
    public void Ratio_IdenticalStrings_IsOne()
    {
        Assert.Equal(1.0, StringSimilarity.Ratio("same text", "same text"));
    }

    [Fact]
    public void MeanRatio_Pairs_AveragesAndEmptyIsZero()
    {
        Assert.Equal(0.875, StringSimilarity.MeanRatio([("abcd", "bcde"), ("x", "x")]), 12);
        Assert.Equal(0, StringSimilarity.MeanRatio([]));
    }
}
