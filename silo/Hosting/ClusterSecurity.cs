using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using SparOrleans.Core.Errors;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// The cluster's shared TLS certificate (<c>--tls-cert FILE.pfx</c>, its password in <see cref="PasswordVariable"/>):
/// every silo and client presents it and accepts only a peer that presents the same one (its SHA-256 thumbprint), so
/// TLS both encrypts and authenticates silo-to-silo and gateway traffic without a certificate authority.
/// </summary>
public sealed class ClusterTls
{
    /// <summary>The PFX password comes from the environment, never the command line (which other users can read).</summary>
    public const string PasswordVariable = "SPAR_TLS_CERT_PASSWORD";

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly byte[] _thumbprint;

    private ClusterTls(X509Certificate2 certificate, string path)
    {
        Certificate = certificate;
        Path = path;
        _thumbprint = certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The PFX file it was loaded from (full path).</summary>
    public string Path { get; }

    /// <summary>SHA-256 thumbprint (hex), what peers compare.</summary>
    public string Thumbprint => Convert.ToHexString(_thumbprint);

    /// <summary>
    /// Loads and checks the certificate before anything starts: a missing file, a file that is not a PFX (or a wrong
    /// password), a certificate without its private key, or one not usable for both ends of a TLS connection is the
    /// user's error.
    /// </summary>
    public static ClusterTls Load(string path, string? password)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new UserInputException($"--tls-cert {path}: no such file.");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(full, password);
        }
        catch (CryptographicException e)
        {
            throw new UserInputException(
                $"--tls-cert {path}: not a PFX (PKCS#12) certificate, or {PasswordVariable} does not hold its password ({e.Message.TrimEnd('.')}).", e);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new UserInputException($"--tls-cert {path}: the certificate has no private key; export it with its key (PFX).");
        }
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>()).Select(o => o.Value).ToList();
        if (usages.Count > 0 && !(usages.Contains(ServerAuthentication) && usages.Contains(ClientAuthentication)))
        {
            certificate.Dispose();
            throw new UserInputException(
                $"--tls-cert {path}: every peer is both TLS server and client, so the certificate needs both the server and the client authentication key usages (or none).");
        }
        return new ClusterTls(certificate, full);
    }

    /// <summary>The certificate given by <paramref name="path"/> with its password from <see cref="PasswordVariable"/>; null without a path.</summary>
    public static ClusterTls? FromOption(string? path) =>
        path is null ? null : Load(path, Environment.GetEnvironmentVariable(PasswordVariable));

    internal void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Pinning replaces chain and host-name checks: a self-signed cluster certificate has no chain, and silos are
        // addressed by IP. A peer is accepted only if it holds the private key of this very certificate.
        options.RemoteCertificateValidation = (remote, _, _) =>
            remote is not null && CryptographicOperations.FixedTimeEquals(remote.GetCertHash(HashAlgorithmName.SHA256), _thumbprint);
    }
}

/// <summary>How a cluster silo listens and what it advertises, and TLS on silos and clients.</summary>
public static class ClusterSecurity
{
    /// <summary>
    /// Endpoints (bind to <see cref="ClusterSiloOptions.Address"/>, advertise <see cref="ClusterSiloOptions.AdvertisedAddress"/>)
    /// and, with <see cref="ClusterEndpoints.Tls"/>, TLS on every silo and gateway connection.
    /// </summary>
    public static ISiloBuilder ConfigureClusterNetwork(this ISiloBuilder silo, ClusterSiloOptions options)
    {
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = options.AdvertisedAddress;
            o.SiloPort = options.SiloPort;
            o.GatewayPort = options.GatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(options.Address, options.SiloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(options.Address, options.GatewayPort);
        });
        if (options.Cluster.Tls is { } tls)
        {
            silo.UseTls(tls.Certificate, tls.Configure);
        }
        return silo;
    }

    /// <summary>
    /// TLS to the gateways with the cluster certificate, when <paramref name="tls"/> is given; and either way a client
    /// that the gateways refuse during the handshake gives up after a few tries instead of Orleans' three minutes.
    /// </summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterTls? tls)
    {
        client.UseConnectionRetryFilter(new HandshakeAwareRetryFilter());
        return tls is null ? client : client.UseTls(tls.Certificate, tls.Configure);
    }

    /// <summary>
    /// Whether <paramref name="e"/> says a gateway accepted the TCP connection and then closed it before the Orleans
    /// handshake completed: what a TLS gateway does to a plain client, a plain one to a TLS client, and a TLS one to a
    /// client with another certificate.
    /// </summary>
    public static bool IsHandshakeRefusal(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            // A plain peer sees the preamble cut short; a TLS client whose check failed sees the connection aborted.
            if (x is ConnectionFailedException && x.InnerException is InvalidOperationException { Message: "Connection terminated prematurely" } or ConnectionAbortedException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Orleans' default client retries (15 tries, 1.5 s more each: about three minutes), except that a refused
    /// handshake is not retried past <see cref="HandshakeTries"/>: it is a configuration mismatch, not a silo starting.
    /// </summary>
    private sealed class HandshakeAwareRetryFilter : IClientConnectionRetryFilter
    {
        private const int MaxTries = 15;
        private const int HandshakeTries = 3;
        private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1500);
        private int _tries;
        private int _refusals;

        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not (OrleansMessageRejectionException or ConnectionFailedException) || ++_tries > MaxTries || cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            if (IsHandshakeRefusal(exception) && ++_refusals >= HandshakeTries)
            {
                return false;
            }
            await Task.Delay(Step * _tries, cancellationToken);
            return true;
        }
    }

    /// <summary>Whether <paramref name="address"/> is 0.0.0.0 or ::, which a silo can bind but never advertise.</summary>
    public static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>The machine's first up, non-loopback IPv4 address: what a silo bound to any address advertises by default.</summary>
    public static IPAddress? FirstLanAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
