using Orleans.Runtime;
using SparOrleans.Grains.Generation;

namespace SparOrleans.Integration.Tests;

public class GpuCallResilienceTests
{
    [Fact]
    public async Task GpuCalls_SiloUnavailableTwice_RetriesAndReturnsTheThirdAnswer()
    {
        var attempts = 0;

        var result = await GrainGeneration.GpuCalls.ExecuteAsync(_ =>
        {
            attempts++;
            return attempts < 3 ? throw new SiloUnavailableException("gpu silo gone") : ValueTask.FromResult(42);
        });

        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task GpuCalls_OtherFailure_IsNotRetried()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await GrainGeneration.GpuCalls.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new InvalidOperationException("a bug, not an outage");
        }));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task GpuCalls_OutageOutlastsTheRetries_FailsSoThePhaseRetries()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<SiloUnavailableException>(async () => await GrainGeneration.GpuCalls.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new SiloUnavailableException("still gone");
        }));

        Assert.Equal(4, attempts);
    }
}
