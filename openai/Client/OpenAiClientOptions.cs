using SparOrleans.Core.Options;

namespace SparOrleans.OpenAi.Client;

/// <summary>
/// Options of <see cref="OpenAiGenerationClient"/>. <see cref="BaseUrl"/> is the server's root or its <c>/v1</c>
/// (both are accepted: servers document either). Each attempt gets <see cref="AttemptTimeout"/>; connection errors,
/// timeouts, 408, 429 and 5xx are retried up to <see cref="MaxRetries"/> times with jittered exponential backoff from
/// <see cref="RetryBaseDelay"/>, or after the server's <c>Retry-After</c> when it sends one (capped at
/// <see cref="MaxRetryDelay"/>). The circuit breaker opens when at least <see cref="BreakerFailureRatio"/> of at
/// least <see cref="BreakerMinimumThroughput"/> attempts in <see cref="BreakerSamplingDuration"/> failed, and then
/// refuses calls for <see cref="BreakerBreakDuration"/>.
/// </summary>
public sealed record OpenAiClientOptions : IValidatedOptions
{
    public required Uri BaseUrl { get; init; }

    public string? ApiKey { get; init; }

    /// <summary>Requests in flight at once; more wait their turn (1–1024).</summary>
    public int MaxConcurrency { get; init; } = 16;

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public int MaxRetries { get; init; } = 6;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    public double BreakerFailureRatio { get; init; } = 0.5;

    public int BreakerMinimumThroughput { get; init; } = 20;

    public TimeSpan BreakerSamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakerBreakDuration { get; init; } = TimeSpan.FromSeconds(15);

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(BaseUrl is { IsAbsoluteUri: true } && (BaseUrl.Scheme == Uri.UriSchemeHttp || BaseUrl.Scheme == Uri.UriSchemeHttps),
            $"base_url must be an absolute http:// or https:// URL (got '{BaseUrl}')")
        .Require(ApiKey is null || (ApiKey.Length > 0 && !ApiKey.Any(char.IsWhiteSpace)), "api_key must be non-empty and hold no whitespace")
        .InRange("max_concurrency", MaxConcurrency, 1, 1024)
        .Require(AttemptTimeout > TimeSpan.Zero, $"attempt_timeout must be greater than 0 (got {AttemptTimeout})")
        .InRange("max_retries", MaxRetries, 0, 100)
        .Require(RetryBaseDelay > TimeSpan.Zero, $"retry_base_delay must be greater than 0 (got {RetryBaseDelay})")
        .Require(MaxRetryDelay >= RetryBaseDelay, $"max_retry_delay must be at least retry_base_delay (got {MaxRetryDelay} < {RetryBaseDelay})")
        .Require(BreakerFailureRatio > 0 && BreakerFailureRatio <= 1, $"breaker_failure_ratio must be in (0, 1] (got {BreakerFailureRatio})")
        // Polly's own lower bounds, stated here so that they are reported with the other problems.
        .Require(BreakerMinimumThroughput >= 2, $"breaker_minimum_throughput must be at least 2 (got {BreakerMinimumThroughput})")
        .Require(BreakerSamplingDuration >= TimeSpan.FromMilliseconds(500), $"breaker_sampling_duration must be at least 0.5 s (got {BreakerSamplingDuration})")
        .Require(BreakerBreakDuration >= TimeSpan.FromMilliseconds(500), $"breaker_break_duration must be at least 0.5 s (got {BreakerBreakDuration})");
}
