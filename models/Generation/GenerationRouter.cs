using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Models.Generation;

/// <summary>
/// The silo's generation backend when models may be served elsewhere: versions with <see cref="ModelRef.Served"/>
/// go to the OpenAI-compatible servers, the rest to the silo's own model host.
/// </summary>
public sealed class GenerationRouter(IGenerationBackend local, IGenerationBackend served) : IGenerationBackend
{
    public Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken) =>
        (model.Served is null ? local : served).GenerateAsync(model, calls, cancellationToken);
}
