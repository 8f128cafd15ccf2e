using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace SparOrleans.Interfaces;

public static class SparSerialization
{
    /// <summary>
    /// The SPaR core library stays free of Orleans, so its records (search state, votes, options, dataset rows)
    /// cross the wire through Orleans' System.Text.Json codec, the same JSON they are persisted as.
    /// </summary>
    public static IServiceCollection AddSparSerialization(this IServiceCollection services) =>
        services.AddSerializer(serializer => serializer.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("SparOrleans.Core", StringComparison.Ordinal) == true));
}
