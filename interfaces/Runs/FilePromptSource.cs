using SparOrleans.Core.Prompts;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Interfaces.Runs;

/// <summary>
/// A run's training prompts from a prompt file (<see cref="PromptFile"/>): iteration t takes
/// <see cref="RunSpec.PromptsPerIteration"/> prompts of a shuffle seeded by (<see cref="RunSpec.Seed"/>, t), each
/// under the id it has in every iteration (from its key, else its line).
/// </summary>
public sealed class FilePromptSource : IPromptSource
{
    private readonly IReadOnlyList<PromptFileEntry> entries;

    /// <summary>Reads and checks the whole file now, so a bad line stops the silo before any run starts.</summary>
    public FilePromptSource(string path) : this(PromptFile.Read(path)) { }

    public FilePromptSource(IReadOnlyList<PromptFileEntry> entries) => this.entries = entries;

    public IReadOnlyList<PromptSpec> Prompts(RunSpec spec, int iteration) =>
        PromptFile.Draw(entries, spec.Seed, iteration, spec.PromptsPerIteration)
            .Select(e => new PromptSpec(e.PromptId, e.Prompt, e.InstructionIds, e.KwargsJson))
            .ToList();
}
