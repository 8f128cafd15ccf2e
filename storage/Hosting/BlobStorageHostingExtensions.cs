using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using SparOrleans.Core.Options;
using SparOrleans.Storage.Blobs;

namespace SparOrleans.Storage.Hosting;

public static class BlobStorageHostingExtensions
{
    /// <summary>Registers <see cref="BlobGrainStorage"/> under <paramref name="name"/> on the configured backend.</summary>
    public static ISiloBuilder AddSparBlobGrainStorage(this ISiloBuilder builder, string name, BlobStorageOptions options)
    {
        options.Validated();
        builder.Services.AddGrainStorage(name, (sp, providerName) => new BlobGrainStorage(
            providerName,
            CreateStore(options),
            StorageResilience.Create(options),
            sp.GetRequiredService<IActivatorProvider>(),
            sp.GetRequiredService<ILogger<BlobGrainStorage>>()));
        return builder;
    }

    public static IBlobStore CreateStore(BlobStorageOptions options) => options.ConnectionString is { } connection
        ? new AzureBlobStore(connection, options.ContainerName)
        : new DirectoryBlobStore(options.LocalDirectory!);
}
