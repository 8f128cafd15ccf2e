using System.Text.RegularExpressions;
using SparOrleans.Core.Options;

namespace SparOrleans.Storage;

/// <summary>
/// Where grain state lives: Azure Blob Storage or Azurite (the official Orleans provider; a cluster), or a local
/// directory (our <see cref="DirectoryGrainStorage"/>; the embedded single silo). Exactly one is set.
/// </summary>
public sealed partial record GrainStorageOptions : IValidatedOptions
{
    /// <summary>Azure Storage (or Azurite) connection string; null to use <see cref="LocalDirectory"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Blob container (3–63 lower-case letters, digits, hyphens). Default <c>spar-state</c>.</summary>
    public string ContainerName { get; init; } = "spar-state";

    /// <summary>A local directory with the same ETag semantics (the embedded single-silo default).</summary>
    public string? LocalDirectory { get; init; }

    /// <summary>Time limit of one HTTP call to blob storage. Default 10 s.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a failed blob call by the Azure SDK (exponential, from <see cref="RetryDelay"/>). Default 3 (0–10).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First retry delay; later ones double up to 2 s. Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public bool IsAzure => ConnectionString is not null;

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(ConnectionString is null != LocalDirectory is null,
            "set exactly one of ConnectionString (Azure Blob / Azurite) and LocalDirectory")
        .Require(ConnectionString is null || ContainerNamePattern().IsMatch(ContainerName),
            $"ContainerName '{ContainerName}' must be 3-63 lower-case letters, digits or single hyphens")
        .Require(NetworkTimeout > TimeSpan.Zero, $"NetworkTimeout must be positive (got {NetworkTimeout})")
        .InRange(nameof(MaxRetries), MaxRetries, 0, 10)
        .Require(RetryDelay >= TimeSpan.Zero, $"RetryDelay must not be negative (got {RetryDelay})");

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ContainerNamePattern();
}
