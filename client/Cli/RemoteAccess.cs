using System.CommandLine;
using System.Net;
using SparOrleans.Core.Errors;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Client.Cli;

/// <summary>
/// The one rule of every listening verb (<c>spar silo</c>, <c>spar run --web-port</c>, <c>spar serve</c>): loopback
/// unless <see cref="Flag"/> says otherwise, because what listens is unauthenticated unless a key or TLS is set.
/// </summary>
internal static class RemoteAccess
{
    public const string Flag = "--allow-remote";

    public static Option<bool> Option(string what) => new(Flag)
    {
        Description = $"Allow {what} to listen on an address other machines can reach (prints what stays unauthenticated)",
    };

    /// <summary>The <see cref="Option{T}"/> of <c>--cluster</c> clients and <c>spar silo</c>: the cluster's shared PFX certificate.</summary>
    public static Option<string?> TlsCertOption() => new("--tls-cert")
    {
        Description = $"TLS with the cluster's shared certificate (PFX; its password in {ClusterTls.PasswordVariable}): peers accept only this certificate",
    };

    /// <summary>An IP address option's value, or the user's error naming <paramref name="option"/>.</summary>
    public static IPAddress Address(string option, string? value) =>
        IPAddress.TryParse(value, out var ip) ? ip : throw new UserInputException($"{option} '{value}' is not an IP address.");

    /// <summary>Throws unless <paramref name="address"/> is loopback or <paramref name="allowed"/> (the flag was given).</summary>
    public static void Require(IPAddress address, bool allowed, string option, string what)
    {
        if (!IPAddress.IsLoopback(address) && !allowed)
        {
            throw new UserInputException($"{option} {address} is reachable from other machines ({what}): add {Flag} to listen there anyway.");
        }
    }
}
