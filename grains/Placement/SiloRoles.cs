namespace SparOrleans.Grains.Placement;

/// <summary>
/// Silo roles: <c>gpu</c> silos host the models (generation batching, training), <c>cpu</c> silos host prompt and
/// tree-node grains. A silo can have both (the embedded single-silo default). Roles travel as silo metadata.
/// </summary>
public static class SiloRoles
{
    public const string MetadataKey = "spar.roles";
    public const string Gpu = "gpu";
    public const string Cpu = "cpu";

    public static string Format(IEnumerable<string> roles) => string.Join(",", roles.Distinct().Order(StringComparer.Ordinal));

    public static bool Has(string? metadataValue, string role) =>
        metadataValue is not null && metadataValue.Split(',', StringSplitOptions.TrimEntries).Contains(role, StringComparer.Ordinal);
}
