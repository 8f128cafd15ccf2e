using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Core.Search;

namespace SparOrleans.Core.Simulation;

/// <summary>
/// The simulated refiner. Defaults: <see cref="JudgeAccuracy"/> null = same as <see cref="RefinerAccuracy"/>;
/// <see cref="InvalidRate"/> 0; <see cref="MarkerFailureRate"/> 0. All rates in 0–1.
/// </summary>
public sealed record SimulatedRefinerOptions(
    double RefinerAccuracy,
    double? JudgeAccuracy = null,
    double InvalidRate = 0,
    double MarkerFailureRate = 0) : IValidatedOptions
{
    public double EffectiveJudgeAccuracy => JudgeAccuracy ?? RefinerAccuracy;

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange(nameof(RefinerAccuracy), RefinerAccuracy, 0, 1)
        .InRange(nameof(JudgeAccuracy), EffectiveJudgeAccuracy, 0, 1)
        .InRange(nameof(InvalidRate), InvalidRate, 0, 1)
        .InRange(nameof(MarkerFailureRate), MarkerFailureRate, 0, 1);
}

/// <summary>
/// A refiner whose quality is one number. Every response is either correct or flawed (the root is flawed).
/// A refinement of a flawed response fixes it with probability <see cref="SimulatedRefinerOptions.RefinerAccuracy"/>
/// (a correct parent stays correct); every fixed refinement of a root is the same text (a minimal fix converges),
/// every flawed one is new text. Each judge sample is invalid with probability
/// <see cref="SimulatedRefinerOptions.InvalidRate"/>, else tells the truth with probability
/// <see cref="SimulatedRefinerOptions.EffectiveJudgeAccuracy"/>. A refinement omits its markers with probability
/// <see cref="SimulatedRefinerOptions.MarkerFailureRate"/>. Every draw is seeded by (seed, root, node, attempt or
/// round, sample), and correctness is read back from the text, so the refiner has no state: a restored search and
/// a fresh instance give identical answers.
/// </summary>
public sealed class SimulatedRefiner(SimulatedRefinerOptions options, int seed, int rootIndex, IRoleFormat? format = null) : IRefinementEnvironment
{
    private const string FixedSuffix = " [fixed]";
    private readonly SimulatedRefinerOptions _options = options.Validated();

    public IRoleFormat Format { get; } = format ?? new CompactFormat();

    /// <summary>The root (flawed) response of root <paramref name="rootIndex"/>.</summary>
    public static string RootResponse(int rootIndex) => $"draft of answer {rootIndex}";

    /// <summary>Whether a simulated response is correct (the ground truth the judge samples are noisy about).</summary>
    public static bool IsCorrect(string response) => response.EndsWith(FixedSuffix, StringComparison.Ordinal);

    public Task<string> RefineAsync(RefineCall call, CancellationToken cancellationToken)
    {
        var random = Draw(1, call.NodeId, call.Attempt);
        var correct = IsCorrect(call.ParentResponse) || random.NextDouble() < _options.RefinerAccuracy;
        var refined = correct ? $"answer {rootIndex}{FixedSuffix}" : $"revision {call.NodeId}.{call.Attempt} of answer {rootIndex}";
        var output = random.NextDouble() < _options.MarkerFailureRate
            ? $"revise\n{refined}"
            : Format.RenderRefinement(correct ? "fix it" : "revise", refined);
        return Task.FromResult(output);
    }

    public Task<IReadOnlyList<string>> JudgeAsync(JudgeCall call, CancellationToken cancellationToken)
    {
        var truth = IsCorrect(call.Response);
        var samples = new string[call.Samples];
        for (var i = 0; i < samples.Length; i++)
        {
            var random = Draw(2, call.NodeId, call.Round, i);
            if (random.NextDouble() < _options.InvalidRate)
            {
                samples[i] = "checks: unclear";
                continue;
            }
            var says = random.NextDouble() < _options.EffectiveJudgeAccuracy ? truth : !truth;
            samples[i] = Format.RenderJudgment(new JudgmentContent(
                [new ConstraintCheck("constraints", says ? "all met" : "one unmet", says)], says));
        }
        return Task.FromResult<IReadOnlyList<string>>(samples);
    }

    private Random Draw(params long[] parts) => new(StableHash.Combine(seed, [rootIndex, .. parts]));
}
