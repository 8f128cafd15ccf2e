using System.Text.Json;
using Azure.Data.Tables;
using SparOrleans.Client.Cli;
using SparOrleans.Grains.Placement;
using SparOrleans.Silo.Hosting;
using SparOrleans.Storage;
using SparOrleans.Storage.Blobs;
using SparOrleans.Tests.Shared;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// `spar silo --cluster azurite:PORT`: the official Orleans Azure providers on Azurite (membership and reminders in its
/// Table service, grain state in its Blob service), with real `spar silo` processes, and the no-silo readers on the
/// blobs the provider wrote.
/// </summary>
public sealed class AzureClusterTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-azure-cluster-{Guid.NewGuid():N}");
    private readonly AzuriteFixture _azurite = AzuriteFixture.WithTables();

    private string Tables => $"azurite:{_azurite.TablePort}";

    public async Task InitializeAsync() => await _azurite.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _azurite.DisposeAsync();
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public async Task RunCluster_AzureTablesAndBlobs_TinyRunCompletesWithJsonBlobsThatExportReadsWithoutASilo()
    {
        const string container = "azure-cluster";
        var silos = new List<SiloProcess>();
        try
        {
            foreach (var role in new[] { SiloRoles.Gpu, SiloRoles.Cpu })
            {
                silos.Add(await SiloProcess.StartAsync(role, Tables, _azurite.Port, container));
            }
            var (code, output, error) = await Spar("run", "--cluster", Tables, "--preset", "tiny", "--iterations", "1", "--run-id", "az-1",
                "--home", _home, "--format", "json");

            var logs = string.Join("\n", silos.Select(s => $"--- {s.Name} ({s.Role})\n{s.Output}"));
            Assert.True(code == ExitCodes.Success, $"exit {code}: {error}\n{logs}");
            Assert.Equal("completed", JsonDocument.Parse(output).RootElement.GetProperty("status").GetString(), ignoreCase: true);
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }

        // Membership and the reminder service lived in Azurite's tables: both silos registered there.
        var tables = new TableServiceClient(ClusterEndpoints.Parse(Tables).AzureTables);
        var names = tables.QueryAsync().Select(t => t.Name);
        Assert.Contains("OrleansSiloInstances", await names.ToListAsync());
        Assert.Contains("OrleansReminders", await names.ToListAsync());
        var members = await tables.GetTableClient("OrleansSiloInstances").QueryAsync<TableEntity>().ToListAsync();
        Assert.True(members.Count >= 2, $"{members.Count} membership rows");

        // The run grain's state is a readable JSON blob where the official provider names it.
        var blob = await new AzureBlobStore(_azurite.ConnectionString, container).ReadAsync(GrainStateLayout.AzureBlob.BlobName("state", "run", "az-1"), default);
        Assert.NotNull(blob);
        using (var state = JsonDocument.Parse(blob.Data.ToString()))
        {
            Assert.Equal("az-1", state.RootElement.GetProperty("Spec").GetProperty("RunId").GetString());
            Assert.Equal(2, state.RootElement.GetProperty("Reports").GetArrayLength());
        }

        // With every silo gone, the readers find the run in the cluster's storage.
        var storage = new[] { "--storage", $"azurite:{_azurite.Port}", "--container", container };
        var to = Path.Combine(_home, "judgments.jsonl");
        var export = await Spar(["export", "az-1", "--what", "judgments", "--to", to, "--format", "json", .. storage]);
        Assert.True(export.Code == ExitCodes.Success, $"exit {export.Code}: {export.Err}");
        Assert.True(JsonDocument.Parse(export.Out).RootElement.GetProperty("count").GetInt32() > 0, export.Out);
        Assert.All(File.ReadAllLines(to), line => JsonDocument.Parse(line).Dispose());
        var list = await Spar(["list", "--format", "json", .. storage]);
        Assert.Equal("az-1", Assert.Single(JsonDocument.Parse(list.Out).RootElement.EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Silo_AzureTablesUnreachable_OneErrorLineWithoutTheAccountKey()
    {
        var (code, _, error) = await Spar("silo", "--cluster", $"azurite:{RedisServer.FreePort()}", "--storage", $"azurite:{_azurite.Port}",
            "--port", RedisServer.FreePort().ToString(), "--gateway", RedisServer.FreePort().ToString());

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: Cannot reach the cluster (Azure Table storage at http://127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("AccountKey", error);
    }

    [Fact]
    public async Task Silo_BlobStorageUnreachable_OneErrorLine()
    {
        var (code, _, error) = await Spar("silo", "--cluster", Tables, "--storage", $"azurite:{RedisServer.FreePort()}",
            "--port", RedisServer.FreePort().ToString(), "--gateway", RedisServer.FreePort().ToString());

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: Cannot reach grain storage at http://127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task RunCluster_AzureTablesUnreachable_OneErrorLineAndNoOutputs()
    {
        var (code, _, error) = await Spar("run", "--cluster", $"azurite:{RedisServer.FreePort()}", "--preset", "tiny", "--run-id", "lonely", "--home", _home);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: Cannot reach the cluster (Azure Table storage at", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Path.Combine(_home, "lonely")));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("export", "some-run", "--what", "dpo", "--to", "pairs.jsonl")]
    public async Task Readers_StorageUnreachable_OneErrorLine(params string[] verb)
    {
        var (code, _, error) = await Spar([.. verb, "--storage", $"azurite:{RedisServer.FreePort()}"]);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: Cannot reach grain storage at http://127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", error);
    }
}
