using SparOrleans.Core.Export;
using SparOrleans.Core.Formats;
using SparOrleans.Models.Generation;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Models.Evaluation;

/// <summary>
/// An actor on an IFEval-format input file: one greedy answer per prompt (the actor prompt of the run's role format,
/// through the model's chat template), scored by our port of the official scorer. The answers are written as IFEval's
/// response file (<c>{"prompt", "response"}</c> per line), so the official <c>evaluation_main</c> can score them too.
/// </summary>
public static class IfEvalEvaluation
{
    public static async Task<IfEvalReport> EvaluateAsync(ModelRunner actor, IRoleFormat format, IReadOnlyList<IfEvalExample> examples,
        int maxNewTokens, string? responsesPath, IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var answers = await actor.GenerateAllAsync(examples.Select(e => format.ActorPrompt(e.Prompt)).ToList(), 0, maxNewTokens, 0,
            progress, "eval-ifeval", cancellationToken).ConfigureAwait(false);
        if (responsesPath is not null)
        {
            JsonlFile.Write(responsesPath, examples.Select((e, i) => new { prompt = e.Prompt, response = answers[i] }).ToList());
        }
        return IfEvalScorer.Score(examples.Select((e, i) => (e, answers[i])));
    }
}
