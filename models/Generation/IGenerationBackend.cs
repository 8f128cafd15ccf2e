using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Models.Generation;

/// <summary>
/// What a GPU-role silo generates with: the <see cref="ModelHost"/> over real models in production; a scripted
/// backend in tests that need exact, known texts. Results carry no silo name; the grain adds its own.
/// </summary>
public interface IGenerationBackend
{
    Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken);
}
