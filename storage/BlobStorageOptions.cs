using System.Text.RegularExpressions;
using SparOrleans.Core.Options;

namespace SparOrleans.Storage;

/// <summary>Where grain state lives and how hard storage calls are retried. Exactly one backend is set.</summary>
public sealed partial record BlobStorageOptions : IValidatedOptions
{
    /// <summary>Azure Storage (or Azurite) connection string; null to use <see cref="LocalDirectory"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Blob container (3–63 lower-case letters, digits, hyphens). Default <c>spar-state</c>.</summary>
    public string ContainerName { get; init; } = "spar-state";

    /// <summary>A local directory with the same ETag semantics (the embedded single-silo default).</summary>
    public string? LocalDirectory { get; init; }

    /// <summary>Time limit of one storage call. Default 5 s.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of a transient failure, with exponential back-off and jitter. Default 4 (0–10).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First retry delay; later ones grow exponentially. Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the circuit stays open after storage kept failing. Default 5 s.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(ConnectionString is null != LocalDirectory is null,
            "set exactly one of ConnectionString (Azure Blob / Azurite) and LocalDirectory")
        .Require(ConnectionString is null || ContainerNamePattern().IsMatch(ContainerName),
            $"ContainerName '{ContainerName}' must be 3-63 lower-case letters, digits or single hyphens")
        .Require(AttemptTimeout > TimeSpan.Zero, $"AttemptTimeout must be positive (got {AttemptTimeout})")
        .InRange(nameof(MaxRetries), MaxRetries, 0, 10)
        .Require(RetryBaseDelay >= TimeSpan.Zero, $"RetryBaseDelay must not be negative (got {RetryBaseDelay})")
        .Require(BreakDuration >= TimeSpan.FromMilliseconds(500), $"BreakDuration must be at least 0.5 s (got {BreakDuration})");

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ContainerNamePattern();
}
