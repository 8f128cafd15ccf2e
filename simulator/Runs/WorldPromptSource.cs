using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.World.Composition;

namespace SparOrleans.Simulator.Runs;

/// <summary>
/// The simulated world's training prompts: iteration t of a run draws <see cref="RunSpec.PromptsPerIteration"/> fresh
/// train-split prompts from the composer at seed <c>Seed × 7919 + t</c>, so every replay sees the same prompts.
/// </summary>
public sealed class WorldPromptSource : IPromptSource
{
    public IReadOnlyList<PromptSpec> Prompts(RunSpec spec, int iteration) =>
        new PromptComposer().Sample(spec.PromptsPerIteration, spec.Seed * 7919 + iteration, WorldSplit.Train)
            .Select((p, i) => new PromptSpec(
                $"t{iteration}-p{i:D4}",
                p.Text,
                p.InstructionIds,
                p.Kwargs().Select(k => k.ToJsonString()).ToList()))
            .ToList();
}
