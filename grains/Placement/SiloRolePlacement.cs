using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace SparOrleans.Grains.Placement;

/// <summary>
/// Restricts a grain to silos whose <see cref="SiloRoles.MetadataKey"/> metadata holds a role. Orleans' built-in
/// metadata filters match the caller's metadata (affinity), not a fixed role, hence this filter.
/// </summary>
public sealed class SiloRoleFilterStrategy(string role) : PlacementFilterStrategy(order: 0)
{
    private const string RoleProperty = "spar-role";

    public SiloRoleFilterStrategy() : this("")
    {
    }

    public string Role { get; private set; } = role;

    public override void AdditionalInitialize(GrainProperties properties) =>
        Role = GetPlacementFilterGrainProperty(RoleProperty, properties) ?? "";

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(
        IServiceProvider services, Type grainClass, GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new(RoleProperty, Role);
    }
}

/// <summary>Places the grain only on silos with the given role (<see cref="SiloRoles"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RequireSiloRoleAttribute(string role) : PlacementFilterAttribute(new SiloRoleFilterStrategy(role));

internal sealed class SiloRoleFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var role = ((SiloRoleFilterStrategy)filterStrategy).Role;
        // A silo whose metadata has not reached this one yet reads as empty, so it is not eligible: placement then
        // fails with "no compatible silo" (a transient fault the run retries) rather than landing on the wrong role.
        return silos.Where(silo => SiloRoles.Has(metadata.GetSiloMetadata(silo).Metadata.GetValueOrDefault(SiloRoles.MetadataKey), role));
    }
}
