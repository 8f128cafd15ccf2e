using System.Net;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Silo.Hosting;
using SparOrleans.Tests.Shared;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The security defaults: every listening verb stays on loopback unless <c>--allow-remote</c>; certificates are
/// checked before anything starts; the web view's API key; a silo bound to 0.0.0.0 advertises a concrete address.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"spar-security-{Guid.NewGuid():N}");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("silo", "--address")]
    [InlineData("run", "--web-address")]
    [InlineData("serve", "--address")]
    [InlineData("silo", "--address", "::")]
    public async Task NonLoopbackWithoutTheFlag_OneErrorLineExit2NamingIt(string verb, string option, string address = "0.0.0.0")
    {
        string[] args = verb switch
        {
            "silo" => ["silo", "--storage", "azurite", option, address],
            "run" => ["run", "--preset", "tiny", "--iterations", "1", "--web-port", "0", option, address, "--home", _dir],
            _ => ["serve", "--model", $"tiny={Path.GetTempPath()}", option, address],
        };

        var (code, output, error) = await Spar(args);

        Assert.Equal(ExitCodes.UserError, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(RemoteAccess.Flag, line);
        Assert.Empty(output);
        Assert.False(Directory.Exists(_dir), "nothing of the run may be written");
    }

    [Theory]
    [InlineData("missing", "no such file")]
    [InlineData("garbage", "not a PFX")]
    [InlineData("no-key", "has no private key")]
    public async Task TlsCert_Unusable_OneErrorLineExit2BeforeAnythingStarts(string kind, string message)
    {
        var path = kind switch
        {
            "missing" => Path.Combine(_dir, "none.pfx"),
            "garbage" => Garbage(),
            _ => TestCertificates.WritePfx(_dir, "public-only", password: null, withKey: false),
        };
        // A port nothing listens on: the certificate must be refused before any connection is tried.
        var nowhere = $"127.0.0.1:{RedisServer.FreePort()}";

        foreach (var args in new[]
        {
            new[] { "silo", "--storage", "azurite", "--redis", nowhere, "--tls-cert", path },
            ["status", "some-run", "--cluster", nowhere, "--tls-cert", path],
        })
        {
            var (code, _, error) = await Spar(args);

            Assert.Equal(ExitCodes.UserError, code);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: --tls-cert", line);
            Assert.Contains(message, line);
        }

        string Garbage()
        {
            Directory.CreateDirectory(_dir);
            var file = Path.Combine(_dir, "garbage.pfx");
            File.WriteAllText(file, "-----BEGIN NOTHING-----");
            return file;
        }
    }

    [Fact]
    public async Task TlsCert_WrongPasswordInTheEnvironment_OneErrorLineExit2NamingTheVariable()
    {
        var path = TestCertificates.WritePfx(_dir, "locked", "the-right-one");
        await using var silo = SparProcess.Start(new Dictionary<string, string> { [ClusterTls.PasswordVariable] = "a-wrong-one" },
            "silo", "--storage", "azurite", "--redis", $"127.0.0.1:{RedisServer.FreePort()}", "--tls-cert", path);

        Assert.Equal(ExitCodes.UserError, await silo.WaitAsync(TimeSpan.FromSeconds(60)));
        var line = Assert.Single(silo.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: --tls-cert", line);
        Assert.Contains(ClusterTls.PasswordVariable, line);
        Assert.DoesNotContain("a-wrong-one", line);
        Assert.Empty(silo.Out);
    }

    [Fact]
    public async Task Run_WebViewOnAnyAddressWithTheFlag_OneWarningThatItIsUnauthenticated_RunCompletes()
    {
        // No SPAR_WEB_API_KEY in this process: the page is open to the network, which the warning says.
        var (code, _, error) = await Spar("run", "--preset", "tiny", "--iterations", "0", "--web-port", "0", "--web-address", "0.0.0.0",
            RemoteAccess.Flag, "--home", _dir, "--run-id", "web-open");

        Assert.True(code == ExitCodes.Success, error);
        var warning = Assert.Single(error.Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Contains("unauthenticated", warning);
        Assert.Contains(WebApiKey.Variable, warning);
    }

    [Fact]
    public async Task WebView_WithApiKey_401WithoutIt_ServedWithBearerOrTheCookieThatKeySets()
    {
        const string key = "web-key-1";
        await using var silo = await EmbeddedSilo.StartAsync(Path.Combine(_dir, "state"), web: new SiloWebOptions
        {
            ApiKey = key,
            Map = app => Watch.WatchWeb.Map(app, "nothing-yet"),
        });
        var dashboard = new Uri(silo.WebAddress!, EmbeddedSilo.DashboardPath + "/");
        var api = new Uri(silo.WebAddress!, "/api/runs/nothing-yet");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

        foreach (var (url, header) in new[] { (dashboard, (string?)null), (api, null), (dashboard, "Bearer wrong-key"), (api, "Bearer web-key-2") })
        {
            using var refused = await SendAsync(url, header);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("authentication_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        }

        using (var bearer = await SendAsync(dashboard, $"Bearer {key}"))
        {
            Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        }
        // Authenticated, the JSON API answers for itself: no such run (404), not 401.
        using (var bearerApi = await SendAsync(api, $"Bearer {key}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, bearerApi.StatusCode);
        }

        // The browser's way: ?key= once, redirected to the page without it, then the cookie carries the key.
        using var withQuery = await SendAsync(new Uri(dashboard + $"?key={key}"), null);
        Assert.Equal(HttpStatusCode.Redirect, withQuery.StatusCode);
        Assert.Equal(EmbeddedSilo.DashboardPath + "/", withQuery.Headers.Location!.OriginalString);
        var cookie = Assert.Single(withQuery.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        using var withCookie = await SendAsync(dashboard, null, cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, withCookie.StatusCode);
        using var wrongQuery = await SendAsync(new Uri(dashboard + "?key=nope"), null);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongQuery.StatusCode);

        async Task<HttpResponseMessage> SendAsync(Uri url, string? authorization, string? cookieHeader = null)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }
            if (cookieHeader is not null)
            {
                request.Headers.Add("Cookie", cookieHeader);
            }
            return await http.SendAsync(request);
        }
    }

    [RedisFact]
    public async Task Silo_AnyAddressWithTheFlag_RealProcessBindsEverywhereAdvertisesAConcreteAddressAndWarnsOnce()
    {
        var azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        try
        {
            await using var redis = await RedisServer.StartAsync();

            // 0.0.0.0 used to be accepted and then abort (exit 134): Orleans cannot advertise it.
            await using var silo = await SiloProcess.StartAsync("gpu,cpu", redis.Endpoint, azurite.Port, $"any-{Guid.NewGuid():N}"[..20],
                extra: ["--address", "0.0.0.0", "--allow-remote", "--advertise", "127.0.0.1"]);

            var warning = Assert.Single(silo.Output.Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));
            Assert.Contains("unauthenticated", warning);
            Assert.Contains("advertised as 127.0.0.1", silo.Output);
            await using var probe = await ClusterConnection.ConnectAsync(new ClusterEndpoints { Redis = redis.Endpoint });
            var host = Assert.Single(await probe.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true));
            Assert.Equal(IPAddress.Loopback, host.Key.Endpoint.Address);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }
}
