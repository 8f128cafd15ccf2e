using SparOrleans.Core.Scaling;

namespace SparOrleans.Core.Tests.Scaling;

public sealed class InferenceScalingTests
{
    private static ScoredCandidate C(double? value, bool follows = false) => new($"r{value}", value, follows);

    [Theory]
    [InlineData(1, new[] { 1 })]
    [InlineData(2, new[] { 1, 2 })]
    [InlineData(8, new[] { 1, 2, 4, 8 })]
    [InlineData(6, new[] { 1, 2, 4, 6 })]
    public void Budgets_UpToMax_DoublesThenEndsAtMax(int max, int[] expected) =>
        Assert.Equal(expected, InferenceScaling.Budgets(max));

    [Fact]
    public void Select_LaterHigherValue_IsKeptOnlyOnceWithinBudget()
    {
        var candidates = new[] { C(0.4), C(0.2), C(1.0), C(0.6) };
        Assert.Equal(0, InferenceScaling.Select(candidates, 1));
        Assert.Equal(0, InferenceScaling.Select(candidates, 2));
        Assert.Equal(2, InferenceScaling.Select(candidates, 3));
        Assert.Equal(2, InferenceScaling.Select(candidates, 8));
    }

    [Fact]
    public void Select_TiedValues_KeepsEarliest() =>
        Assert.Equal(1, InferenceScaling.Select([C(0), C(0.5), C(0.5)], 3));

    [Fact]
    public void Select_UnjudgedCandidates_RankBelowJudgedOnes()
    {
        Assert.Equal(1, InferenceScaling.Select([C(null), C(0)], 2));
        Assert.Equal(0, InferenceScaling.Select([C(null), C(null)], 2));
    }

    [Fact]
    public void AnyFollows_CountsOnlyCandidatesWithinBudget()
    {
        var candidates = new[] { C(1), C(0, follows: true) };
        Assert.False(InferenceScaling.AnyFollows(candidates, 1));
        Assert.True(InferenceScaling.AnyFollows(candidates, 2));
    }
}
