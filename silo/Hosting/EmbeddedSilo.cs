using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using SparOrleans.Core.Options;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;
using SparOrleans.Storage;
using SparOrleans.Models.Generation;

namespace SparOrleans.Silo.Hosting;

/// <summary>
/// A whole SPaR cluster in this process: one silo with both roles on loopback, grain state in a local directory
/// (durable: a killed run continues with <c>spar resume</c>), and the co-hosted client. The embedded default.
/// </summary>
public sealed class EmbeddedSilo : IAsyncDisposable
{
    /// <summary>The cluster identity of every embedded silo; a client joins with these and the gateway port.</summary>
    public const string ServiceId = "spar";

    /// <inheritdoc cref="ServiceId"/>
    public const string ClusterId = "spar-embedded";

    private readonly IHost _host;
    private readonly StateDirectoryLock _lock;

    private EmbeddedSilo(IHost host, StateDirectoryLock stateLock, int gatewayPort, Uri? webAddress)
    {
        _host = host;
        _lock = stateLock;
        GatewayPort = gatewayPort;
        WebAddress = webAddress;
    }

    /// <summary>The loopback port where clients (e.g. <c>spar watch</c>) connect.</summary>
    public int GatewayPort { get; }

    /// <summary>Where the silo's web side answers, or null when it has none.</summary>
    public Uri? WebAddress { get; }

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public IServiceProvider Services => _host.Services;

    /// <param name="stateDirectory">
    /// Where grain state lives (blob-like files with ETags). The silo holds its <see cref="StateDirectoryLock"/> until
    /// disposed: a second silo on it throws <see cref="StateDirectoryInUseException"/>.
    /// </param>
    /// <param name="minimumLogLevel">Silo logs below this level are dropped (the CLI draws its own progress).</param>
    /// <param name="web">Serve pages (the Orleans Dashboard, the caller's endpoints); null = none.</param>
    /// <param name="bootstrapCache">Where bootstrapped M_0/R_0 are kept for later runs (null = always train them).</param>
    /// <param name="refreshBootstrapCache">Train M_0/R_0 even when <paramref name="bootstrapCache"/> holds them, and store the new ones there.</param>
    /// <param name="models">The model host's settings (null: its defaults).</param>
    public static async Task<EmbeddedSilo> StartAsync(string stateDirectory, LogLevel minimumLogLevel = LogLevel.Warning,
        Action<ISiloBuilder>? configure = null, SiloWebOptions? web = null, CancellationToken cancellationToken = default,
        string? bootstrapCache = null, bool refreshBootstrapCache = false, ModelHostOptions? models = null)
    {
        web?.Validated();
        StateDirectoryLock stateLock;
        try
        {
            stateLock = StateDirectoryLock.Acquire(stateDirectory);
        }
        catch (Exception e) when (e is (IOException and not StateDirectoryInUseException) or UnauthorizedAccessException)
        {
            // The same failure the grain storage would report a moment later, so callers handle one kind.
            throw new StorageUnreachableException(stateDirectory, e);
        }
        try
        {
            return await StartLockedAsync(stateDirectory, stateLock, minimumLogLevel, configure, web, bootstrapCache, refreshBootstrapCache, models, cancellationToken);
        }
        catch
        {
            stateLock.Dispose();
            throw;
        }
    }

    private static async Task<EmbeddedSilo> StartLockedAsync(string stateDirectory, StateDirectoryLock stateLock, LogLevel minimumLogLevel,
        Action<ISiloBuilder>? configure, SiloWebOptions? web, string? bootstrapCache, bool refreshBootstrapCache, ModelHostOptions? models,
        CancellationToken cancellationToken)
    {
        IHostApplicationBuilder builder = web is null
            ? Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true })
            : WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = typeof(EmbeddedSilo).Assembly.GetName().Name });
        builder.Logging.SparConsole(minimumLogLevel);
        var started = false;
        builder.Logging.OrleansLogs(minimumLogLevel < LogLevel.Warning ? minimumLogLevel : LogLevel.Error, () => started);
        // A failed start surfaces as the exception the caller turns into one error line; the host's own log of it
        // would print a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var gatewayPort = FreePort();
        var webPort = web is null ? 0 : web.Port == 0 ? FreePort() : web.Port;
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: gatewayPort, serviceId: ServiceId, clusterId: ClusterId);
            silo.ConfigureSpar(new SparSiloOptions
            {
                Storage = new GrainStorageOptions { LocalDirectory = stateDirectory },
                BootstrapCacheDirectory = bootstrapCache,
                RefreshBootstrapCache = refreshBootstrapCache,
                Models = models ?? new ModelHostOptions(),
            });
            // One silo: a run's reminder can only re-activate it here, so it lives in memory (`spar resume` continues
            // a run after the process itself stopped).
            silo.UseInMemoryReminderService();
            if (web?.Dashboard == true)
            {
                silo.AddDashboard();
            }
            configure?.Invoke(silo);
        });
        IHost host;
        Uri? address = null;
        if (builder is WebApplicationBuilder webBuilder)
        {
            webBuilder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(web!.Address, webPort));
            var app = webBuilder.Build();
            if (web!.ApiKey is { } key)
            {
                app.UseWebApiKey(key);
            }
            if (web!.Dashboard)
            {
                app.MapOrleansDashboard(routePrefix: DashboardPath);
            }
            web.Map?.Invoke(app);
            host = app;
            address = new UriBuilder(Uri.UriSchemeHttp, web.Address.ToString(), webPort).Uri;
        }
        else
        {
            host = ((HostApplicationBuilder)builder).Build();
        }
        try
        {
            await host.StartAsync(cancellationToken);
            started = true;
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new EmbeddedSilo(host, stateLock, gatewayPort, address);
    }

    /// <summary>Where the Orleans Dashboard is served, relative to <see cref="WebAddress"/>.</summary>
    public const string DashboardPath = "/dashboard";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await HostShutdown.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(30));
        }
        finally
        {
            _lock.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
