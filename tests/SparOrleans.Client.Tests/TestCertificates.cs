using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SparOrleans.Client.Tests;

/// <summary>Self-signed cluster certificates made in the test, written as PFX files as a user would export them.</summary>
internal static class TestCertificates
{
    /// <summary>A new self-signed certificate (ECDSA P-256) in <paramref name="directory"/>; without its key when <paramref name="withKey"/> is false.</summary>
    public static string WritePfx(string directory, string name, string? password, bool withKey = true)
    {
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var path = Path.Combine(directory, $"{name}.pfx");
        File.WriteAllBytes(path, (withKey ? certificate : publicOnly).Export(X509ContentType.Pkcs12, password));
        return path;
    }
}
