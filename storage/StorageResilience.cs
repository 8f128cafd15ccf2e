using System.Net.Sockets;
using Azure;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage;

/// <summary>
/// The Polly pipeline around every storage call: retry (exponential, jittered) → circuit breaker → per-call timeout.
/// The whole pipeline is bounded (a few seconds), so a grain never holds its turn in a long retry loop; callers above
/// retry the grain call itself.
/// </summary>
public static class StorageResilience
{
    public static ResiliencePipeline Create(BlobStorageOptions options, TimeProvider? timeProvider = null)
    {
        var handle = new PredicateBuilder().Handle<Exception>(IsTransient);
        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = handle,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
            });
        }
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = handle,
                FailureRatio = 0.8,
                MinimumThroughput = 8,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = options.BreakDuration,
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>Failures worth retrying: timeouts, lost connections, throttling and server errors. Never a conflict.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        BlobConflictException => false,
        BrokenCircuitException => false,
        TimeoutRejectedException => true,
        RequestFailedException r => r.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or SocketException => true,
        // A path that is not there stays not there: retrying would only delay the error.
        DirectoryNotFoundException or FileNotFoundException or PathTooLongException or DriveNotFoundException => false,
        IOException => true,
        AggregateException a => a.InnerExceptions.All(IsTransient),
        _ => e.InnerException is not null && IsTransient(e.InnerException),
    };
}
