using System.Net;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Storage;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// Where a SPaR cluster lives: the Redis that holds its membership, and (for silos) the grain storage. Cluster and
/// service ids are fixed (<c>spar</c>), so every silo and client given the same Redis joins the same cluster.
/// </summary>
public sealed record ClusterEndpoints : IValidatedOptions
{
    public const string ClusterId = "spar";
    public const string ServiceId = "spar";

    /// <summary>Redis for membership, <c>HOST:PORT</c> (any StackExchange.Redis configuration string).</summary>
    public required string Redis { get; init; }

    /// <summary>The cluster's shared TLS certificate (<c>--tls-cert</c>); null = plain TCP between silos and clients.</summary>
    public ClusterTls? Tls { get; init; }

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(!string.IsNullOrWhiteSpace(Redis), "--redis/--cluster needs HOST:PORT of the Redis that holds membership")
        .Require(string.IsNullOrWhiteSpace(Redis) || NamesAnEndpoint(Redis), $"--redis/--cluster '{Redis}' names no Redis endpoint: give HOST:PORT");

    // What StackExchange.Redis would otherwise refuse deep inside the silo's start, as an ArgumentException.
    private static bool NamesAnEndpoint(string configuration)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(configuration, ignoreUnknown: true).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Grain storage from a <c>--storage</c> value: <c>azurite</c> or <c>azurite:PORT</c> (the local emulator's dev
    /// account on 127.0.0.1, default port 10000), an Azure Storage connection string, or a directory (one silo only:
    /// its ETag checks are per process).
    /// </summary>
    public static BlobStorageOptions Storage(string value, string container = "spar-state")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new UserInputException("--storage is empty: give azurite[:PORT], an Azure Storage connection string, or a directory.");
        }
        if (value == "azurite" || value.StartsWith("azurite:", StringComparison.Ordinal))
        {
            var port = value == "azurite" ? 10000 : int.TryParse(value["azurite:".Length..], out var p) && p is > 0 and < 65536 ? p
                : throw new UserInputException($"--storage {value}: the Azurite port must be a number between 1 and 65535.");
            return new BlobStorageOptions { ConnectionString = AzuriteConnection(IPAddress.Loopback.ToString(), port), ContainerName = container }.Validated();
        }
        if (value.Contains("AccountName=", StringComparison.OrdinalIgnoreCase) || value.Contains("BlobEndpoint=", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase))
        {
            return new BlobStorageOptions { ConnectionString = value, ContainerName = container }.Validated();
        }
        return new BlobStorageOptions { LocalDirectory = Path.GetFullPath(value) }.Validated();
    }

    /// <summary>The connection string of Azurite's well-known development account at <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static string AzuriteConnection(string host, int port) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://{host}:{port}/devstoreaccount1;";
}
