using System.CommandLine;
using System.Net;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Grains.Placement;
using SparOrleans.Grains.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Models.Generation;

namespace SparOrleans.Client.Commands;

/// <summary><c>spar silo</c>: one silo of a multi-silo cluster, until Ctrl-C or SIGTERM.</summary>
public static class SiloCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var role = new Option<string>("--role") { Description = "gpu (models, training), cpu (run, prompt and tree grains) or gpu,cpu", DefaultValueFactory = _ => "gpu,cpu" };
        var cluster = new Option<string>("--cluster", "--redis")
        {
            Description = "Where the cluster's membership (and reminders) live: Redis HOST:PORT, azurite[:PORT] (Azurite's Table service, default port 10002) or an Azure Storage connection string (Azure Table storage)",
            DefaultValueFactory = _ => "127.0.0.1:6379",
        };
        var storage = new Option<string>("--storage") { Description = "Grain storage: azurite[:PORT] (local emulator, default port 10000), an Azure Storage connection string, or a directory (one silo only)", Required = true };
        var container = new Option<string>("--container") { Description = "Blob container for grain state", DefaultValueFactory = _ => "spar-state" };
        var address = new Option<string>("--address") { Description = $"Address to bind (default 127.0.0.1; any other needs {RemoteAccess.Flag}; 0.0.0.0 binds every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var advertise = new Option<string?>("--advertise") { Description = "Address other silos and clients reach this one at (default --address; with 0.0.0.0 the machine's first LAN IPv4)" };
        var allowRemote = RemoteAccess.Option("the silo and its gateway");
        var tlsCert = RemoteAccess.TlsCertOption();
        var port = new Option<int>("--port") { Description = "Silo-to-silo port", DefaultValueFactory = _ => 11111 };
        var gateway = new Option<int>("--gateway") { Description = "Client gateway port", DefaultValueFactory = _ => 30000 };
        var retryLimit = new Option<int>("--retry-limit")
        {
            Description = "Attempts a run coordinated here makes at a phase that keeps failing transiently (no gpu silo, storage away) before it fails",
            DefaultValueFactory = _ => RunRetryOptions.Default.MaxAttempts,
        };
        var retryDelay = new Option<double>("--retry-delay") { Description = "Seconds before the first retry; each next waits twice as long", DefaultValueFactory = _ => RunRetryOptions.Default.FirstDelay.TotalSeconds };
        var retryMaxDelay = new Option<double>("--retry-max-delay") { Description = "Longest wait between retries, seconds", DefaultValueFactory = _ => RunRetryOptions.Default.MaxDelay.TotalSeconds };
        var reminderPeriod = new Option<double>("--reminder-period")
        {
            Description = "Seconds between the ticks of a running run's reminder, which continue it on a live silo when its coordinator's silo died",
            DefaultValueFactory = _ => RunReminderOptions.Default.Period.TotalSeconds,
        };
        var bootstrapCache = new Option<DirectoryInfo?>("--bootstrap-cache") { Description = "gpu silos: keep bootstrapped M_0/R_0 here and reuse them for runs with the same bootstrap options (as spar run's <home>/.cache)" };
        var probeTimeout = new Option<double?>("--probe-timeout") { Description = "Seconds of Orleans' membership probe timeout (default 5): a dead silo is declared dead after about 3 missed probes" };
        var device = new Option<string>("--device") { Description = "gpu silos: where the models decode, cpu or cuda[:N] (default cpu)", DefaultValueFactory = _ => "cpu" };
        var generationWorkers = new Option<int?>("--generation-workers")
        {
            Description = "gpu silos: decoding threads, shared by the models loaded (default: one per core on a CPU, each on one torch thread; 1: one thread decoding on every core)",
        };
        var residentModels = new Option<int>("--resident-models")
        {
            Description = "gpu silos: model versions kept loaded at once, the least recently used unloaded first (default 2: one run's actor and refiner; give 2 per run sharing the silo)",
            DefaultValueFactory = _ => new ModelHostOptions().ResidentModels,
        };
        var command = new Command("silo", """
            Runs one silo of a SPaR cluster until Ctrl-C: Redis or Azure Table storage for membership, blob storage for
            grain state. Prints "ready NAME" on stdout once it has joined.
            Examples:
              spar silo --role gpu --storage azurite --port 11111 --gateway 30000
              spar silo --role cpu --storage azurite --port 11112 --gateway 30001 --cluster 127.0.0.1:6379
              spar silo --role cpu --storage azurite --cluster azurite   membership and reminders in Azurite's tables
              spar silo --address 0.0.0.0 --allow-remote --tls-cert cluster.pfx --storage "$CONN" --cluster 10.0.0.2:6379
            """)
        {
            role, cluster, storage, container, address, advertise, allowRemote, tlsCert, port, gateway, retryLimit, retryDelay, retryMaxDelay, reminderPeriod,
            probeTimeout, bootstrapCache, device, generationWorkers, residentModels,
        };
        command.SetAction(async (parse, ct) =>
        {
            var roles = parse.GetValue(role)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (roles.Length == 0 || roles.Any(r => r is not (SiloRoles.Gpu or SiloRoles.Cpu)))
            {
                throw new UserInputException($"--role '{parse.GetValue(role)}': give gpu, cpu or gpu,cpu.");
            }
            var ip = RemoteAccess.Address("--address", parse.GetValue(address));
            var tls = ClusterTls.FromOption(parse.GetValue(tlsCert));
            RemoteAccess.Require(ip, parse.GetValue(allowRemote), "--address",
                tls is null ? "silo and gateway traffic is unauthenticated without --tls-cert" : "TLS protects the traffic, but opening the ports is said explicitly");
            var advertised = parse.GetValue(advertise) is { } a ? RemoteAccess.Address("--advertise", a)
                : ClusterSecurity.IsAny(ip) ? ClusterSecurity.FirstLanAddress()
                    ?? throw new UserInputException($"--address {ip}: this machine has no LAN IPv4 address to advertise; give --advertise ADDRESS.")
                : null;
            var options = new ClusterSiloOptions
            {
                Cluster = ClusterEndpoints.Parse(parse.GetValue(cluster)!) with { Tls = tls },
                Spar = new SparSiloOptions
                {
                    Roles = roles.Distinct().ToList(),
                    Storage = ClusterEndpoints.Storage(parse.GetValue(storage)!, parse.GetValue(container)!),
                    Retry = new RunRetryOptions
                    {
                        MaxAttempts = parse.GetValue(retryLimit),
                        FirstDelay = Seconds("--retry-delay", parse.GetValue(retryDelay)),
                        MaxDelay = Seconds("--retry-max-delay", parse.GetValue(retryMaxDelay)),
                    },
                    Reminder = new RunReminderOptions { Period = Seconds("--reminder-period", parse.GetValue(reminderPeriod)) },
                    BootstrapCacheDirectory = parse.GetValue(bootstrapCache)?.FullName,
                    Models = new ModelHostOptions { Device = parse.GetValue(device)!, Workers = parse.GetValue(generationWorkers), ResidentModels = parse.GetValue(residentModels) },
                },
                Address = ip,
                Advertise = advertised,
                SiloPort = parse.GetValue(port),
                GatewayPort = parse.GetValue(gateway),
                ProbeTimeout = parse.GetValue(probeTimeout) is { } probe ? Seconds("--probe-timeout", probe) : null,
            };
            await using var silo = await ClusterFailures.UserFacingAsync(options.Cluster, () => ClusterSilo.StartAsync(options, cancellationToken: ct));
            if (!IPAddress.IsLoopback(ip) && tls is null)
            {
                await stderr.WriteLineAsync($"warning: listening on {ip} without --tls-cert: silo-to-silo and gateway traffic (ports {options.SiloPort}, {options.GatewayPort}) is unauthenticated and unencrypted; anyone who can reach them can join the cluster or call its grains.");
            }
            var advertisedNote = options.Advertise is { } adv && !adv.Equals(ip) ? $" (advertised as {adv})" : "";
            var tlsNote = tls is null ? "" : $", TLS (certificate {tls.Thumbprint[..16]}...)";
            var models = options.Spar.Models;
            var modelsNote = options.Spar.Roles.Contains(SiloRoles.Gpu)
                ? $", models on {models.Device} ({models.EffectiveWorkers} decoding worker(s), up to {models.ResidentModels} version(s) loaded)"
                : "";
            await stderr.WriteLineAsync($"silo {silo.Name} up: roles {string.Join(",", options.Spar.Roles)}, {ip}:{options.SiloPort}{advertisedNote}, gateway {options.GatewayPort}{tlsNote}, membership on {options.Cluster.Describe}{modelsNote}, " +
                $"runs retry a failing phase {options.Spar.Retry.MaxAttempts} times. Ctrl-C stops it.");
            await stdout.WriteLineAsync($"ready {silo.Name}");
            await stdout.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                await stderr.WriteLineAsync($"silo {silo.Name} stopping.");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A duration option in seconds; its range is checked with the options record it goes into.</summary>
    private static TimeSpan Seconds(string name, double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(seconds)
            : throw new UserInputException($"{name} {seconds}: give a number of seconds.");
}

/// <summary>Turns "cannot reach the membership store / storage" at start-up into one clear user-facing error.</summary>
internal static class ClusterFailures
{
    public static async Task<T> UserFacingAsync<T>(ClusterEndpoints cluster, Func<Task<T>> start)
    {
        try
        {
            return await start();
        }
        catch (Exception e) when (RunCommands.StorageFailure(e) is { } storage)
        {
            throw new UserInputException($"{storage.Message} (check --storage)", e);
        }
        catch (Exception e) when (ClusterSecurity.IsHandshakeRefusal(e))
        {
            throw new UserInputException(
                $"Cannot join the cluster ({cluster.Describe}): its gateway closed the connection during the handshake, so the cluster and this process disagree on TLS: " +
                (cluster.Tls is null ? "give --tls-cert with the cluster's certificate." : "the cluster runs without TLS or with another certificate than --tls-cert."), e);
        }
        catch (Exception e) when (e.GetBaseException() is FormatException { Source: { } source } format && source.StartsWith("Azure.", StringComparison.Ordinal))
        {
            // The Azure SDK parses a connection string only when the silo builds its storage client.
            throw new UserInputException($"--storage is not a usable Azure Storage connection string: {format.Message}", e);
        }
        catch (Exception e) when (Find<ClusterUnreachableException>(e) is { } unreachable)
        {
            throw new UserInputException(unreachable.Message, e);
        }
        catch (Exception e) when (IsClusterFailure(e))
        {
            // Redis's own message: a start that failed in the reminder table wraps it in one that begins with its type.
            var reason = System.Text.RegularExpressions.Regex.Replace((RedisException(e) ?? e.GetBaseException()).Message.Split('\n', 2)[0].Trim(), @"^([\w.]+Exception: )+", "");
            // StackExchange.Redis appends advice about abortConnect that does not apply here, Azure a request id and
            // headers: keep the first sentence.
            reason = reason.IndexOf(". ", StringComparison.Ordinal) is var end and > 0 ? reason[..(end + 1)] : reason;
            throw new UserInputException($"Cannot reach the cluster ({cluster.Describe}): {reason}", e);
        }
    }

    // ExceptionChain looks inside AggregateExceptions too: a host's start wraps the failure of each lifecycle stage.
    private static T? Find<T>(Exception e) where T : Exception => ExceptionChain.Of(e).OfType<T>().FirstOrDefault();

    // The deepest Redis exception says what failed; the outer ones only repeat it with their type prepended.
    private static Exception? RedisException(Exception e) => ExceptionChain.Of(e).LastOrDefault(IsRedis);

    private static bool IsClusterFailure(Exception e) =>
        ExceptionChain.Of(e).Any(x => IsRedis(x) || x.GetType().Name.Contains("Redis", StringComparison.Ordinal) || x is OrleansException or Azure.RequestFailedException);

    private static bool IsRedis(Exception x) => x.GetType().FullName?.StartsWith("StackExchange.Redis.", StringComparison.Ordinal) == true;
}
