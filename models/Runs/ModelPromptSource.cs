using System.Collections.Concurrent;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Models.Runs;

/// <summary>
/// The training prompts of model runs: each run's prompt file (<see cref="ModelRunSpec.PromptFile"/>), read and
/// checked once per silo and drawn per iteration by <see cref="FilePromptSource"/>.
/// </summary>
public sealed class ModelPromptSource : IPromptSource
{
    private readonly ConcurrentDictionary<string, Lazy<FilePromptSource>> _files = new();

    public IReadOnlyList<PromptSpec> Prompts(RunSpec spec, int iteration)
    {
        var path = spec.Models?.PromptFile ?? throw new ArgumentException($"Run {spec.RunId} is not a model run: it has no prompt file.");
        return _files.GetOrAdd(path, p => new Lazy<FilePromptSource>(() => new FilePromptSource(p))).Value.Prompts(spec, iteration);
    }
}
