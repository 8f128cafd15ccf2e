using SparOrleans.Core.Options;

namespace SparOrleans.Interfaces.Prompts;

/// <summary>
/// How each role samples (paper §2.3, reference scripts): actor T 0.9 / top-p 0.9; judge and refiner T 0.7.
/// Token budgets are in the engine's tokens (bytes for the simulator).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.sampling-options")]
public sealed record SamplingOptions : IValidatedOptions
{
    [Id(0)]
    public double ActorTemperature { get; init; } = 0.9;

    [Id(1)]
    public double ActorTopP { get; init; } = 0.9;

    [Id(2)]
    public double JudgeTemperature { get; init; } = 0.7;

    [Id(3)]
    public double RefineTemperature { get; init; } = 0.7;

    [Id(4)]
    public double TopP { get; init; } = 1.0;

    [Id(5)]
    public int ActorMaxTokens { get; init; } = 256;

    [Id(6)]
    public int JudgeMaxTokens { get; init; } = 256;

    [Id(7)]
    public int RefineMaxTokens { get; init; } = 320;

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(ActorTemperature), ActorTemperature, 0, 5)
        .Require(ActorTopP is > 0 and <= 1, $"{nameof(ActorTopP)} must be in (0, 1] (got {ActorTopP})")
        .InRange(nameof(JudgeTemperature), JudgeTemperature, 0, 5)
        .InRange(nameof(RefineTemperature), RefineTemperature, 0, 5)
        .Require(TopP is > 0 and <= 1, $"{nameof(TopP)} must be in (0, 1] (got {TopP})")
        .Positive(nameof(ActorMaxTokens), ActorMaxTokens)
        .Positive(nameof(JudgeMaxTokens), JudgeMaxTokens)
        .Positive(nameof(RefineMaxTokens), RefineMaxTokens);
}
