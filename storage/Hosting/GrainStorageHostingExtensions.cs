using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using SparOrleans.Core.Options;
using SparOrleans.Storage.Blobs;
using SparOrleans.Storage.Checkpoints;

namespace SparOrleans.Storage.Hosting;

public static class GrainStorageHostingExtensions
{
    /// <summary>
    /// Registers grain storage <paramref name="name"/>: the official Azure Blob provider with <see cref="GrainStateJson"/>
    /// on Azure Storage or Azurite, or <see cref="DirectoryGrainStorage"/> on a local directory. Either way a store that
    /// cannot be reached stops the silo's start with a <see cref="StorageUnreachableException"/>.
    /// </summary>
    public static ISiloBuilder AddSparGrainStorage(this ISiloBuilder builder, string name, GrainStorageOptions options)
    {
        options.Validated();
        if (options.ConnectionString is not { } connection)
        {
            builder.Services.AddGrainStorage(name, (sp, providerName) => new DirectoryGrainStorage(
                providerName,
                new DirectoryBlobStore(options.LocalDirectory!),
                sp.GetRequiredService<IActivatorProvider>(),
                sp.GetRequiredService<ILogger<DirectoryGrainStorage>>()));
            return builder;
        }
        var client = new BlobServiceClient(connection, ClientOptions(options));
        builder.AddAzureBlobGrainStorage(name, o =>
        {
            o.BlobServiceClient = client;
            o.ContainerName = options.ContainerName;
            o.GrainStorageSerializer = GrainStateJson.Serializer;
        });
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(new StorageProbe(client.GetBlobContainerClient(options.ContainerName)));
        return builder;
    }

    /// <summary>
    /// Model checkpoints beside the grain state (container <c>NAME-models</c>), where silos may not share a disk (Azure
    /// Storage or Azurite); null on a local directory, whose single silo has the files already.
    /// </summary>
    public static CheckpointStore? ClusterCheckpoints(GrainStorageOptions? options) => options?.ConnectionString is { } connection
        ? new CheckpointStore(new AzureBlobStore(connection, options.ContainerName + "-models"))
        : null;

    /// <summary>
    /// The provider's own retries, bounded to a few seconds so a grain never holds its turn through a long outage: the
    /// run retries the grain call itself (RunFaults), and the SDK's default (100 s timeouts, 3 retries up to 1 min
    /// apart) would hide an outage for minutes.
    /// </summary>
    internal static BlobClientOptions ClientOptions(GrainStorageOptions options)
    {
        var client = new BlobClientOptions();
        client.Retry.Mode = RetryMode.Exponential;
        client.Retry.MaxRetries = options.MaxRetries;
        client.Retry.Delay = options.RetryDelay;
        client.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        client.Retry.NetworkTimeout = options.NetworkTimeout;
        return client;
    }

    /// <summary>
    /// Reaches the container before the provider initialises (one stage earlier), so an unreachable store is one clear
    /// error at silo start instead of the provider's multi-line Azure exception.
    /// </summary>
    private sealed class StorageProbe(BlobContainerClient container) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(StorageProbe), ServiceLifecycleStage.ApplicationServices - 1, async ct =>
            {
                try
                {
                    await container.CreateIfNotExistsAsync(cancellationToken: ct);
                }
                catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
                {
                    throw new StorageUnreachableException(container.Uri.ToString(), e);
                }
            });
    }
}
