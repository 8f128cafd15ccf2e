using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Storage;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// Where a SPaR cluster lives: the store that holds its membership and reminders, Redis or Azure Table storage
/// (exactly one is set), and (for silos) the grain storage. Cluster and service ids are fixed (<c>spar</c>), so every
/// silo and client given the same store joins the same cluster. The one place that turns a <c>--cluster</c> value
/// into Orleans configuration.
/// </summary>
public sealed record ClusterEndpoints : IValidatedOptions
{
    public const string ClusterId = "spar";
    public const string ServiceId = "spar";

    /// <summary>Azurite's table service port when <c>azurite</c> names none.</summary>
    public const int AzuriteTablePort = 10002;

    /// <summary>Redis for membership, <c>HOST:PORT</c> (any StackExchange.Redis configuration string).</summary>
    public string? Redis { get; init; }

    /// <summary>Azure Storage (or Azurite) connection string whose Table service holds membership and reminders.</summary>
    public string? AzureTables { get; init; }

    /// <summary>The cluster's shared TLS certificate (<c>--tls-cert</c>); null = plain TCP between silos and clients.</summary>
    public ClusterTls? Tls { get; init; }

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(string.IsNullOrWhiteSpace(Redis) != string.IsNullOrWhiteSpace(AzureTables),
            "--cluster needs HOST:PORT of the Redis, or azurite[:PORT] / an Azure Storage connection string, that holds membership")
        .Require(string.IsNullOrWhiteSpace(Redis) || NamesAnEndpoint(Redis), $"--cluster '{Secrets.Redact(Redis ?? "")}' names no Redis endpoint: give HOST:PORT");

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
    /// The cluster from a <c>--cluster</c> (or <c>spar silo --redis</c>) value: <c>azurite</c> or <c>azurite:PORT</c>
    /// (the local emulator's Table service on 127.0.0.1, default port 10002) or an Azure Storage connection string
    /// means Azure Table storage; anything else is a Redis <c>HOST:PORT</c>.
    /// </summary>
    public static ClusterEndpoints Parse(string value, string option = "--cluster")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new UserInputException($"{option} is empty: give HOST:PORT of a Redis, azurite[:PORT], or an Azure Storage connection string.");
        }
        if (AzuritePort(value, option, AzuriteTablePort) is { } port)
        {
            return new ClusterEndpoints { AzureTables = AzuriteConnection("TableEndpoint", IPAddress.Loopback.ToString(), port) };
        }
        return IsConnectionString(value) ? new ClusterEndpoints { AzureTables = value } : new ClusterEndpoints { Redis = value };
    }

    /// <summary>Where the cluster is, for messages: never a connection string's secrets.</summary>
    public string Describe => Redis is { } redis
        ? $"Redis at {RedactRedis(redis)}"
        : $"Azure Table storage at {Endpoint(AzureTables!, "TableEndpoint", "table")}";

    /// <summary>Membership and reminders for a silo, in the same store (Redis or Azure Table storage).</summary>
    public void UseClustering(ISiloBuilder silo)
    {
        this.Validated();
        if (Redis is { } redis)
        {
            silo.UseRedisClustering(redis);
            silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        }
        else
        {
            silo.UseAzureStorageClustering(o => o.TableServiceClient = Tables());
            silo.UseAzureTableReminderService(o => o.TableServiceClient = Tables());
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(new TableProbe(this));
        }
        silo.Configure<ClusterOptions>(Identify);
    }

    /// <summary>Membership (the gateway list) for a client.</summary>
    public void UseClustering(IClientBuilder client)
    {
        this.Validated();
        if (Redis is { } redis)
        {
            client.UseRedisClustering(redis);
        }
        else
        {
            client.UseAzureStorageClustering(o => o.TableServiceClient = Tables());
            client.Services.AddSingleton<ILifecycleParticipant<IClusterClientLifecycle>>(new TableProbe(this));
            // The gateway-list provider logs each failed table call with its stack trace; a client (the CLI) reports
            // an unreachable cluster as the probe's one line instead.
            client.Services.AddLogging(logging => logging
                .AddFilter("Orleans.Clustering.AzureStorage", LogLevel.Critical)
                .AddFilter("Orleans.AzureUtils", LogLevel.Critical));
        }
        client.Configure<ClusterOptions>(Identify);
    }

    /// <summary>
    /// Bounded SDK retries (about 3 s, not the default minutes): Orleans' membership protocol retries on its own, and
    /// a start against unreachable tables should fail while the user waits.
    /// </summary>
    private TableServiceClient Tables()
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 3;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        return new TableServiceClient(AzureTables, options);
    }

    /// <summary>
    /// Reaches the Table service before anything else starts: Orleans' membership would retry an unreachable table
    /// for minutes (its join limit), and print a stack trace per attempt, before the user saw one clear line.
    /// </summary>
    private sealed class TableProbe(ClusterEndpoints cluster) : ILifecycleParticipant<ISiloLifecycle>, ILifecycleParticipant<IClusterClientLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(nameof(TableProbe), ServiceLifecycleStage.First, ProbeAsync);

        public void Participate(IClusterClientLifecycle lifecycle) => lifecycle.Subscribe(nameof(TableProbe), ServiceLifecycleStage.First, ProbeAsync);

        private async Task ProbeAsync(CancellationToken cancellationToken)
        {
            try
            {
                await cluster.Tables().GetPropertiesAsync(cancellationToken);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or TimeoutException or InvalidOperationException
                || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new ClusterUnreachableException(cluster.Describe, StorageFaults.Reason(e), e);
            }
        }
    }

    private static void Identify(ClusterOptions o)
    {
        o.ClusterId = ClusterId;
        o.ServiceId = ServiceId;
    }

    /// <summary>
    /// Grain storage from a <c>--storage</c> value: <c>azurite</c> or <c>azurite:PORT</c> (the local emulator's dev
    /// account on 127.0.0.1, default port 10000), an Azure Storage connection string, or a directory (one silo only:
    /// its ETag checks are per process).
    /// </summary>
    public static GrainStorageOptions Storage(string value, string container = "spar-state")
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new UserInputException("--storage is empty: give azurite[:PORT], an Azure Storage connection string, or a directory.");
        }
        if (AzuritePort(value, "--storage", 10000) is { } port)
        {
            return new GrainStorageOptions { ConnectionString = AzuriteConnection(IPAddress.Loopback.ToString(), port), ContainerName = container }.Validated();
        }
        if (IsConnectionString(value))
        {
            return new GrainStorageOptions { ConnectionString = value, ContainerName = container }.Validated();
        }
        return new GrainStorageOptions { LocalDirectory = Path.GetFullPath(value) }.Validated();
    }

    /// <summary>The connection string of Azurite's well-known development account's Blob service at <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static string AzuriteConnection(string host, int port) => AzuriteConnection("BlobEndpoint", host, port);

    private static string AzuriteConnection(string endpoint, string host, int port) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"{endpoint}=http://{host}:{port}/devstoreaccount1;";

    private static int? AzuritePort(string value, string option, int defaultPort)
    {
        if (value == "azurite")
        {
            return defaultPort;
        }
        if (!value.StartsWith("azurite:", StringComparison.Ordinal))
        {
            return null;
        }
        return int.TryParse(value["azurite:".Length..], out var port) && port is > 0 and < 65536
            ? port
            : throw new UserInputException($"{option} {value}: the Azurite port must be a number between 1 and 65535.");
    }

    private static bool IsConnectionString(string value) =>
        value.Contains("AccountName=", StringComparison.OrdinalIgnoreCase) || value.Contains("Endpoint=", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase);

    /// <summary>A connection string's <paramref name="key"/> endpoint, else its account's default one: never its key or SAS.</summary>
    internal static string Endpoint(string connection, string key, string service)
    {
        var parts = connection.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.OrdinalIgnoreCase);
        if (parts.TryGetValue(key, out var endpoint))
        {
            return endpoint;
        }
        return parts.TryGetValue("AccountName", out var account)
            ? $"https://{account}.{service}.{parts.GetValueOrDefault("EndpointSuffix", "core.windows.net")}"
            : "the development storage";
    }

    /// <summary>The host part of a Redis configuration string: its password and other options stay out of messages.</summary>
    private static string RedactRedis(string redis) => Secrets.Redact(redis.Split(',', 2)[0]);
}

/// <summary>The cluster's membership store could not be reached at start; the message says where and why, on one line.</summary>
public sealed class ClusterUnreachableException(string where, string reason, Exception inner)
    : Exception($"Cannot reach the cluster ({where}): {reason}", inner);
