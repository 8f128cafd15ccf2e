using System.Net;
using Microsoft.AspNetCore.Routing;
using SparOrleans.Core.Options;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// The embedded silo's web side, on 127.0.0.1 unless <see cref="Address"/> says otherwise: the Orleans Dashboard at
/// <c>/dashboard</c> (on by default) and whatever endpoints <see cref="Map"/> adds (the run page of <c>spar run --web-port</c>).
/// </summary>
/// <param name="Port">The port; 0 (default) picks a free one. 0-65535.</param>
public sealed record SiloWebOptions(int Port = 0, bool Dashboard = true) : IValidatedOptions
{
    /// <summary>Where to listen; loopback by default (the caller decides whether another address is allowed).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Every request must carry this key (<see cref="WebApiKey"/>); null = none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Adds the caller's endpoints (read-only pages) to the silo's web host.</summary>
    public Action<IEndpointRouteBuilder>? Map { get; init; }

    public IEnumerable<string> Problems() => new ProblemList().InRange("--web-port", Port, 0, 65535);
}
