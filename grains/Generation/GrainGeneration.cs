using SparOrleans.Grains.Search;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Grains.Generation;

/// <summary>Generation through the GPU-pinned <see cref="IGenerationGrain"/>, for grains and clients.</summary>
public static class GrainGeneration
{
    public static GenerateTexts Texts(IGrainFactory grains, IterationContext context) =>
        async (role, calls, cancellationToken) =>
        {
            var generated = await grains.GetGrain<IGenerationGrain>(0).GenerateAsync(context.Model(role), calls, cancellationToken);
            return generated.Select(g => g.Text).ToList();
        };
}
