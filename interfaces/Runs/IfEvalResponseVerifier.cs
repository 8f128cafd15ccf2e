using SparOrleans.Interfaces.Prompts;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// Ground truth for real prompts: IFEval's strict prompt-level verdict (<see cref="IfEvalVerdict"/>). Unknown for a
/// prompt without instruction ids or with an id outside IFEval's registry.
/// </summary>
public sealed class IfEvalResponseVerifier : IResponseVerifier
{
    public bool? Follows(RunSpec spec, PromptSpec prompt, string response) =>
        IfEvalVerdict.FollowsAllStrict(prompt.InstructionIds, prompt.KwargsJson, response);
}
