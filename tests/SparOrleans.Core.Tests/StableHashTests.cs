namespace SparOrleans.Core.Tests;

public sealed class StableHashTests
{
    [Fact]
    public void Combine_Parts_ArePinnedSoEveryProcessDrawsTheSame()
    {
        // Pinned: a re-run or a restored search in another process must seed the same draws.
        Assert.Equal(Pinned, StableHash.Combine(1, 2, 3));
    }

    [Theory]
    [InlineData(1, 2, 3, 0)]
    [InlineData(5, 0, 4, 1)]
    [InlineData(7, 7, 0, 0)]
    public void Combine_SeedAndFirstPartWithTheSameXor_Differ(int seedA, long partA, int seedB, long partB)
    {
        Assert.Equal(seedA ^ partA, seedB ^ partB);
        Assert.NotEqual(StableHash.Combine(seedA, partA, 9), StableHash.Combine(seedB, partB, 9));
    }

    [Fact]
    public void Combine_ManyRootsAndSeeds_RarelyCollide()
    {
        var hashes = (from seed in Enumerable.Range(0, 64) from root in Enumerable.Range(0, 64) select StableHash.Combine(seed, root)).ToList();
        Assert.True(hashes.Distinct().Count() >= hashes.Count - 2, $"{hashes.Count - hashes.Distinct().Count()} collisions among {hashes.Count}");
        Assert.All(hashes, h => Assert.True(h >= 0));
    }

    [Fact]
    public void Combine_Text_DependsOnSeedAndText()
    {
        Assert.Equal(StableHash.Combine(3, "prompt-7"), StableHash.Combine(3, "prompt-7"));
        Assert.NotEqual(StableHash.Combine(3, "prompt-7"), StableHash.Combine(4, "prompt-7"));
        Assert.NotEqual(StableHash.Combine(3, "prompt-7"), StableHash.Combine(3, "prompt-8"));
    }

    private const int Pinned = 1723041843;
}
