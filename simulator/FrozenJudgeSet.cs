using System.Text.Json;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.World.Composition;

namespace SparOrleans.Simulator;

/// <summary>One case of the frozen judge set: held-out prompt <see cref="PromptIndex"/> (of the set's prompt draw), M_0's sampled answer and the verifiers' verdict.</summary>
public sealed record FrozenJudgeCase(int Id, int PromptIndex, string Prompt, string Response, bool Follows);

/// <summary>
/// The judge's evaluation set for every R_t of a run: M_0's own sampled answers (the loop's distribution, not
/// balanced: its Yes share is M_0's pass rate) on held-out prompts, labelled by the verifiers. Sampled once when R_0
/// is bootstrapped and stored beside it (<see cref="FileName"/>), so it is cached with the bootstrap and every
/// refiner trained from R_0 carries it forward: R_t and R_0 are scored on the same cases, case by case
/// (<c>JudgmentScore.Correct</c> is in <see cref="Cases"/> order, for McNemar's test).
/// </summary>
/// <param name="PromptCount">How many held-out prompts were drawn (<see cref="Evaluation.HeldOutPrompts"/>).</param>
/// <param name="PromptSeed">The seed of that draw.</param>
public sealed record FrozenJudgeSet(int PromptCount, int PromptSeed, double Temperature, IReadOnlyList<FrozenJudgeCase> Cases)
{
    /// <summary>The file inside a refiner's model directory.</summary>
    public const string FileName = "judge_eval.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>The held-out prompts of a frozen set of <paramref name="count"/> cases: a draw apart from the actor's, the teacher's and the refinement cases'.</summary>
    public static int PromptSeedFor(int heldOutSeed) => WorldSeed.Mix(heldOutSeed, 3);

    /// <summary>
    /// Samples the set from M_0 (<paramref name="actor"/>): one answer at <see cref="SimulatorOptions.RefinerSampleTemperature"/>
    /// to each of <see cref="SimulatorOptions.FrozenJudgeCases"/> held-out prompts, seeded by <paramref name="seed"/>.
    /// </summary>
    public static async Task<FrozenJudgeSet> SampleAsync(ModelRunner actor, SimulatorOptions options, int seed,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var promptSeed = PromptSeedFor(options.HeldOutSeed);
        var prompts = Evaluation.HeldOutPrompts(options.FrozenJudgeCases, promptSeed);
        var samples = await actor.GenerateAllAsync(prompts.Select(p => RoleFormats.Compact.ActorPrompt(p.Text)).ToList(), options.RefinerSampleTemperature,
            options.ActorMaxNewTokens, seed, progress, "judge-eval-sampling", cancellationToken).ConfigureAwait(false);
        return FromSamples(prompts, samples, promptSeed, options.RefinerSampleTemperature);
    }

    /// <summary>One case per prompt, in prompt order, labelled by the verifiers (a pure function of its inputs).</summary>
    public static FrozenJudgeSet FromSamples(IReadOnlyList<WorldPrompt> prompts, IReadOnlyList<string> samples, int promptSeed, double temperature)
    {
        if (prompts.Count != samples.Count)
        {
            throw new ArgumentException($"{prompts.Count} prompts but {samples.Count} samples", nameof(samples));
        }
        return new FrozenJudgeSet(prompts.Count, promptSeed, temperature,
            [.. prompts.Select((p, i) => new FrozenJudgeCase(i, i, p.Text, samples[i], p.Follows(samples[i])))]);
    }

    /// <summary>The cases as judge cases, their prompts re-drawn (deterministic) and checked against the stored text.</summary>
    public IReadOnlyList<JudgeCase> JudgeCases()
    {
        var prompts = Evaluation.HeldOutPrompts(PromptCount, PromptSeed);
        return [.. Cases.Select(c =>
        {
            var prompt = prompts[c.PromptIndex];
            return prompt.Text == c.Prompt
                ? new JudgeCase(prompt, c.Response, c.Follows, "frozen")
                : throw new InvalidOperationException($"frozen judge case {c.Id}: held-out prompt {c.PromptIndex} is no longer the stored one (the world changed since the bootstrap)");
        })];
    }

    /// <summary>Share of cases that follow their prompt (M_0's pass rate on them).</summary>
    public double FollowingRate => Cases.Count == 0 ? 0 : (double)Cases.Count(c => c.Follows) / Cases.Count;

    public void Save(string directory) => File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The set stored in <paramref name="refinerDir"/>; null when there is none (a refiner bootstrapped before frozen sets).</summary>
    public static FrozenJudgeSet? Load(string refinerDir)
    {
        var path = Path.Combine(refinerDir, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<FrozenJudgeSet>(File.ReadAllText(path), Json) : null;
    }
}
