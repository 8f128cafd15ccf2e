using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Where the verbs that read stored runs without a silo find them: <c>--home</c>'s state directory, or with
/// <c>--storage</c> a cluster's grain storage (the silos' <c>--storage</c> and <c>--container</c>).
/// </summary>
public sealed class StoredRunSource
{
    public Option<string?> Storage { get; } = new("--storage")
    {
        Description = "Read a cluster's runs from its grain storage instead of --home: the silos' --storage (azurite[:PORT] or an Azure Storage connection string); no silo is started",
    };

    public Option<string> Container { get; } = new("--container") { Description = "The silos' blob container (with --storage)", DefaultValueFactory = _ => "spar-state" };

    public void AddTo(Command command)
    {
        command.Options.Add(Storage);
        command.Options.Add(Container);
    }

    public RunStore Open(ParseResult parse, Option<DirectoryInfo?> home) => parse.GetValue(Storage) is { } storage
        ? RunStore.For(ClusterEndpoints.Storage(storage, parse.GetValue(Container)!))
        : new RunStore(SparHome.From(parse, home).StateDirectory);
}
