using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace SparOrleans.Grains.Placement;

public static class SiloRoleHostingExtensions
{
    /// <summary>Announces this silo's roles as metadata and enables role-restricted placement.</summary>
    public static ISiloBuilder UseSiloRoles(this ISiloBuilder builder, IReadOnlyCollection<string> roles)
    {
#pragma warning disable ORLEANSEXP004 // Silo metadata is experimental in Orleans 10; it is the only way to carry a role.
        builder.UseSiloMetadata(new Dictionary<string, string> { [SiloRoles.MetadataKey] = SiloRoles.Format(roles) });
#pragma warning restore ORLEANSEXP004
        // Transient: Orleans resolves one strategy per grain type and initializes it with that type's role; a singleton
        // was shared by every role-restricted type, so all of them took the role of whichever type resolved last.
        builder.Services.AddPlacementFilter<SiloRoleFilterStrategy, SiloRoleFilterDirector>(ServiceLifetime.Transient);
        return builder;
    }
}
