using System.CommandLine;
using System.Net;
using SparOrleans.Core.Security;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Client.Cli;

/// <summary>
/// <c>--web-port</c>, <c>--web-address</c> and <c>--allow-remote</c> of <c>spar run/resume</c>: the embedded silo's web
/// view (run page, Orleans Dashboard), on loopback unless allowed elsewhere, behind <see cref="WebApiKey.Variable"/> when set.
/// </summary>
internal sealed class WebViewOptions
{
    private readonly Option<int?> _port = new("--web-port")
    {
        Description = "Also serve the run page (/runs/RUN, like spar watch) and the Orleans Dashboard (/dashboard) on 127.0.0.1:PORT (0 = a free port)",
    };

    private readonly Option<string?> _address = new("--web-address")
    {
        Description = $"Where the web view listens (default 127.0.0.1; any other needs {RemoteAccess.Flag}; {WebApiKey.Variable} sets its key)",
    };

    private readonly Option<bool> _allowRemote = RemoteAccess.Option("the web view");

    public IEnumerable<Option> All => [_port, _address, _allowRemote];

    /// <summary>The web view the user asked for, or null; a non-loopback address without the flag is the user's error.</summary>
    public SiloWebOptions? Read(ParseResult parse)
    {
        var address = parse.GetValue(_address) is { } text ? RemoteAccess.Address("--web-address", text) : IPAddress.Loopback;
        if (parse.GetValue(_port) is not { } port)
        {
            return parse.GetValue(_address) is null ? null : throw new Core.Errors.UserInputException("--web-address needs --web-port PORT.");
        }
        var key = ApiKeys.FromEnvironment(WebApiKey.Variable);
        RemoteAccess.Require(address, parse.GetValue(_allowRemote), "--web-address",
            key is null ? $"the web view is unauthenticated: {WebApiKey.Variable} is not set" : "the web view is plain HTTP");
        return new SiloWebOptions(port) with { Address = address, ApiKey = key };
    }

    /// <summary>The one warning line of a web view listening beyond this machine; null on loopback.</summary>
    public static string? Warning(SiloWebOptions web, Uri address) =>
        IPAddress.IsLoopback(web.Address) ? null
        : web.ApiKey is null
            ? $"warning: the web view at {address} (run page, Orleans Dashboard, JSON API) is unauthenticated: anyone who can reach it can read the run and the cluster; set {WebApiKey.Variable} to require a key."
            : $"warning: the web view at {address} is plain HTTP: its key and pages cross the network unencrypted; put a TLS proxy in front beyond a trusted network.";
}
