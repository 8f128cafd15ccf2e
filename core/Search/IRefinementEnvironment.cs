using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Search;

/// <summary>One refinement generation: refine <see cref="ParentResponse"/> given <see cref="ParentJudgment"/>.</summary>
/// <param name="NodeId">The child being produced; with <see cref="Attempt"/> it names the generation uniquely in its tree.</param>
public sealed record RefineCall(string Instruction, string ParentResponse, string ParentJudgment, int NodeId, int Attempt, SamplingHint Hint);

/// <summary>One judging round: <see cref="Samples"/> independent judgments of <see cref="Response"/>.</summary>
public sealed record JudgeCall(string Instruction, string Response, int NodeId, int Round, int Samples);

/// <summary>
/// What the search policies need from the world: a refiner that refines and judges. Implemented by the simulated
/// refiner (<c>spar search simulate</c>), by the simulated world's teacher, and by real models behind grains, so the
/// same policy code runs against all three. Outputs are raw text in <see cref="Format"/>; the core parses them.
/// </summary>
public interface IRefinementEnvironment
{
    IRoleFormat Format { get; }

    /// <summary>The refiner's full output for the refinement conversation (reflection, then the markers).</summary>
    Task<string> RefineAsync(RefineCall call, CancellationToken cancellationToken);

    /// <summary><see cref="JudgeCall.Samples"/> judgment texts of the response (temperature 0.7 in the paper).</summary>
    Task<IReadOnlyList<string>> JudgeAsync(JudgeCall call, CancellationToken cancellationToken);
}
