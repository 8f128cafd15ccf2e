using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace SparOrleans.Interfaces;

public static class SparSerialization
{
    /// <summary>
    /// The SPaR core library stays free of Orleans, so its records (search state, votes, options, dataset rows)
    /// cross the wire through Orleans' System.Text.Json codec, the same JSON they are persisted as. Its exceptions do
    /// not: JSON cannot write an exception (its TargetSite), so a grain that threw one (invalid settings on a gpu silo)
    /// reached the caller as a serialization error. Orleans' own exception codec carries them instead (type, message,
    /// stack, inner), once our namespace is among those it accepts.
    /// </summary>
    public static IServiceCollection AddSparSerialization(this IServiceCollection services) => services
        .AddSerializer(serializer => serializer.AddJsonSerializer(isSupported: IsCoreRecord))
        .Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("SparOrleans"));

    private static bool IsCoreRecord(Type type) =>
        type.Namespace?.StartsWith("SparOrleans.Core", StringComparison.Ordinal) == true && !typeof(Exception).IsAssignableFrom(type);
}
