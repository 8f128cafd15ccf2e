using System.Security.Cryptography;
using System.Text;

namespace SparOrleans.Core.Security;

/// <summary>API keys of the HTTP endpoints (<c>spar serve</c>, the run's web view), read from the environment.</summary>
public static class ApiKeys
{
    /// <summary>
    /// Whether <paramref name="given"/> is <paramref name="expected"/>, in time that depends on neither: both are hashed
    /// first, so neither how much of a guess was right nor the key's length shows in the response time.
    /// </summary>
    public static bool Matches(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>The key in environment variable <paramref name="variable"/>, or null when it is unset or empty.</summary>
    public static string? FromEnvironment(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? key.Trim() : null;
}
