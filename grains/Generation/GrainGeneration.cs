using SparOrleans.Models.Search;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Polly;
using Polly.Retry;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Grains.Generation;

/// <summary>Generation through the GPU-pinned <see cref="IGenerationGrain"/>, for grains and clients.</summary>
public static class GrainGeneration
{
    /// <summary>
    /// A GPU silo that just died or is leaving rejects calls until the cluster notices, then the generation grain
    /// (a stateless worker) is placed on another one: a few quick retries ride that out. They stay short (about 1.4 s
    /// in all) so a grain never holds its turn long; a longer outage fails the call and the run retries its phase.
    /// </summary>
    public static ResiliencePipeline GpuCalls { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<SiloUnavailableException>().Handle<OrleansMessageRejectionException>()
                .Handle<ConnectionFailedException>(),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    public static GenerateTexts Texts(IGrainFactory grains, IterationContext context) =>
        async (role, calls, cancellationToken) =>
        {
            // Captured context: a retry must call out from the grain's own scheduler, as the first attempt does.
            var resilience = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true, cancellationToken);
            try
            {
                var generated = await GpuCalls.ExecuteAsync(
                    async (ctx, _) => await grains.GetGrain<IGenerationGrain>(0).GenerateAsync(context.Model(role), calls, ctx.CancellationToken),
                    resilience, 0);
                return generated.Select(g => g.Text).ToList();
            }
            finally
            {
                ResilienceContextPool.Shared.Return(resilience);
            }
        };
}
