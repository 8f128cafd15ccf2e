using SparOrleans.Core.Text;
using SparOrleans.World.Composition;

namespace SparOrleans.World.Teaching;

/// <summary>
/// Measured properties of the world on a sample of prompts: the teacher's correctness, judgment agreement with the
/// verifiers, refinement success and closeness, and the paper's similarity comparison (§3.5: refinement pairs 0.90
/// vs independently sampled pairs 0.85, by <see cref="StringSimilarity.Ratio"/>).
/// </summary>
/// <param name="Prompts">Prompts measured.</param>
/// <param name="AnswerPassRate">Share of teacher answers that pass every verifier.</param>
/// <param name="JudgeAgreement">Share of judged responses (answers, flawed, independent) whose per-constraint
/// verdicts all equal the verifiers'.</param>
/// <param name="FlawedRate">Share of prompts for which a one-violation near miss was found.</param>
/// <param name="RefineSuccess">Share of refined near misses that pass every verifier.</param>
/// <param name="RefineMinimal">Share of refinements done by minimal edits (no rewrite).</param>
/// <param name="RefinementSimilarity">Mean similarity of (flawed, refined) pairs.</param>
/// <param name="IndependentSimilarity">Mean similarity of (independent incorrect, independent correct) pairs.</param>
/// <param name="Levels">Prompt count per level 1–5.</param>
public sealed record WorldStats(
    int Prompts,
    double AnswerPassRate,
    double JudgeAgreement,
    double FlawedRate,
    double RefineSuccess,
    double RefineMinimal,
    double RefinementSimilarity,
    double IndependentSimilarity,
    IReadOnlyDictionary<int, int> Levels)
{
    /// <summary>Measures the properties on <paramref name="prompts"/>; <paramref name="seed"/> picks the responses.</summary>
    public static WorldStats Measure(IReadOnlyList<WorldPrompt> prompts, int seed)
    {
        int answersOk = 0, judged = 0, agreed = 0, flawedFound = 0, refinedOk = 0, minimal = 0, independentPairs = 0;
        double refineSim = 0, independentSim = 0;
        foreach (var (prompt, i) in prompts.Select((p, i) => (p, i)))
        {
            var s = WorldSeed.Mix(seed, i);
            var answer = Teacher.Answer(prompt, s);
            answersOk += prompt.Follows(answer) ? 1 : 0;
            var bad = Teacher.IndependentSample(prompt, s + 1, correct: false);
            var good = Teacher.IndependentSample(prompt, s + 2, correct: true);
            var flawed = Teacher.Flawed(prompt, 1, s + 3);
            var toJudge = new List<string> { answer, bad.Response, good.Response };
            if (flawed is not null)
            {
                flawedFound++;
                toJudge.Add(flawed.Response);
                var refinement = Teacher.Refine(prompt, flawed.Response, s);
                refinedOk += prompt.Follows(refinement.Response) ? 1 : 0;
                minimal += refinement.Minimal ? 1 : 0;
                refineSim += StringSimilarity.Ratio(flawed.Response, refinement.Response);
            }
            if (!bad.Follows)
            {
                independentPairs++;
                independentSim += StringSimilarity.Ratio(bad.Response, good.Response);
            }
            foreach (var response in toJudge)
            {
                judged++;
                var checks = Teacher.Judge(prompt, response).Checks;
                agreed += checks.Select(c => c.Satisfied).SequenceEqual(prompt.Check(response)) ? 1 : 0;
            }
        }
        double Share(int x, int n) => n == 0 ? 0 : (double)x / n;
        return new WorldStats(
            prompts.Count,
            Share(answersOk, prompts.Count),
            Share(agreed, judged),
            Share(flawedFound, prompts.Count),
            Share(refinedOk, flawedFound),
            Share(minimal, flawedFound),
            flawedFound == 0 ? 0 : refineSim / flawedFound,
            independentPairs == 0 ? 0 : independentSim / independentPairs,
            Enumerable.Range(1, 5).ToDictionary(l => l, l => prompts.Count(p => p.Level == l)));
    }
}
