using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Models.Search;

/// <summary>Runs generation calls for one role on some model (through a grain, or directly in-process).</summary>
public delegate Task<IReadOnlyList<string>> GenerateTexts(ModelRole role, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken);

/// <summary>
/// The refiner of a real model as the tree search sees it. The same class serves the grain path and the direct
/// in-process path; only <see cref="GenerateTexts"/> differs, which is what makes their results comparable.
/// </summary>
public sealed class ModelRefinementEnvironment(IRoleFormat format, SamplingOptions sampling, GenerateTexts generate, int runSeed, string scope)
    : IRefinementEnvironment
{
    public IRoleFormat Format => format;

    public async Task<string> RefineAsync(RefineCall call, CancellationToken cancellationToken)
    {
        var seed = RoleCalls.Seed(runSeed, scope, 1, call.NodeId, call.Attempt);
        var request = RoleCalls.Refine(format, sampling, call.Instruction, call.ParentResponse, call.ParentJudgment, seed, call.Hint == SamplingHint.Greedy);
        return (await generate(ModelRole.Refiner, [request], cancellationToken))[0];
    }

    public Task<IReadOnlyList<string>> JudgeAsync(JudgeCall call, CancellationToken cancellationToken) =>
        generate(
            ModelRole.Refiner,
            Enumerable.Range(0, call.Samples)
                .Select(i => RoleCalls.Judge(format, sampling, call.Instruction, call.Response, RoleCalls.Seed(runSeed, scope, 2, call.NodeId, call.Round, i)))
                .ToList(),
            cancellationToken);
}
