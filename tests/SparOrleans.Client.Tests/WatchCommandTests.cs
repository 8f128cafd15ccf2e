using SparOrleans.Models.Generation;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SparOrleans.Client.Cli;
using SparOrleans.Client.Watch;
using SparOrleans.Core.Search;
using SparOrleans.Integration.Tests.Prompts;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Silo.Hosting;
using SparOrleans.Simulator;
using SparOrleans.Simulator.Runs;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

/// <summary>
/// A tiny run (one iteration, the scripted generation backend, so trees have known shapes) on an embedded silo that
/// advertises itself as <c>spar run</c> does, left running for the watchers.
/// </summary>
public sealed class WatchedRunFixture : IAsyncLifetime
{
    public const string RunId = "watch-tiny";

    public string Home { get; } = Path.Combine(Path.GetTempPath(), $"spar-watch-{Guid.NewGuid():N}");

    public string State => Path.Combine(Home, ".state");

    public EmbeddedSilo Silo { get; private set; } = null!;

    public RunStatus Final { get; private set; } = null!;

    private IDisposable? _advertised;

    public async Task InitializeAsync()
    {
        Silo = await EmbeddedSilo.StartAsync(
            State,
            configure: silo => silo.Services.AddSingleton<IGenerationBackend, ScriptedBackend>(),
            web: new SiloWebOptions { Map = app => WatchWeb.Map(app, RunId) });
        _advertised = SiloEndpoints.Advertise(State, Endpoint);
        var options = SimulatorOptions.Tiny with { Seed = 5, IterationPrompts = 6, SamplesPerPrompt = 5 };
        var spec = new RunSpec(RunId, Path.Combine(Home, RunId), 5, 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt);
        var run = Silo.Client.GetGrain<IRunGrain>(RunId);
        await run.StartAsync(spec);
        await foreach (var status in run.WatchAsync())
        {
            Final = status;
        }
    }

    public SiloEndpoint Endpoint => new(RunId, Silo.GatewayPort, Environment.ProcessId, DateTimeOffset.UnixEpoch);

    /// <summary>The prompts of iteration 1 as the grains report them.</summary>
    public async Task<IReadOnlyList<PromptSnapshot>> PromptsAsync()
    {
        var keys = await Silo.Client.GetGrain<IRunGrain>(RunId).GetPromptKeysAsync(1);
        return await Task.WhenAll(keys.Select(k => Silo.Client.GetGrain<IPromptGrain>(k).GetSnapshotAsync()));
    }

    public async Task DisposeAsync()
    {
        _advertised?.Dispose();
        await Silo.DisposeAsync();
        Directory.Delete(Home, recursive: true);
    }
}

public sealed class WatchCommandTests(WatchedRunFixture run) : IClassFixture<WatchedRunFixture>
{
    private static void AssertShowsTree(string text, PromptSnapshot prompt)
    {
        Assert.Contains($"prompt {WatchFrame.PromptId(prompt)}", text);
        var search = prompt.Search!;
        foreach (var node in search.Nodes)
        {
            Assert.Contains($"#{node.Id}", text);
            if (node.Status is NodeStatus.Judged or NodeStatus.Root && node.Vote is { } vote)
            {
                Assert.Contains($"#{node.Id}{(node.Id == 0 ? " root" : "")} · depth {node.Depth} · {WatchRenderer.Votes(vote)}", text);
            }
        }
        foreach (var sample in prompt.Samples)
        {
            Assert.Contains(WatchRenderer.Votes(sample.Vote), text);
        }
    }

    private async Task<PromptSnapshot> SearchedPromptAsync()
    {
        Assert.True(run.Final.Status == RunStatusKind.Completed, $"fixture run ended {run.Final.Status}: {run.Final.Error}");
        var prompts = await run.PromptsAsync();
        // The scripted judge errs on some samples: the tiny run has prompts with trees of several nodes.
        return prompts.Where(p => p.Search is not null).OrderByDescending(p => p.Search!.Nodes.Count).First();
    }

    [Fact]
    public async Task Watch_LiveSiloOnce_RendersThePromptsTreeWithNodesAndVotes()
    {
        var prompt = await SearchedPromptAsync();
        Assert.True(prompt.Search!.Nodes.Count > 1, "the scripted run should refine at least once");

        var (code, output, error) = await Spar("watch", WatchedRunFixture.RunId, "--once", "--prompt", WatchFrame.PromptId(prompt), "--home", run.Home);

        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        Assert.Contains($"live: silo process {Environment.ProcessId}", output);
        Assert.Contains($"run {WatchedRunFixture.RunId} · completed", output);
        Assert.Contains("iteration 1: 6 prompts · done 6", output);
        AssertShowsTree(output, prompt);
        // Each refinement shows what it changed from its parent, in word-diff markers.
        if (prompt.Search.Nodes.Any(n => n.Status == NodeStatus.Judged))
        {
            Assert.Contains("{+", output);
        }
    }

    [Fact]
    public async Task Watch_FollowingAFinishedRun_ShowsTheFinalFrameAndExits()
    {
        await SearchedPromptAsync();
        var (code, output, error) = await Spar("watch", WatchedRunFixture.RunId, "--home", run.Home);

        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        Assert.Contains("completed", output);
        Assert.Contains("tree: bfs", output);
    }

    [Fact]
    public async Task Watch_JsonOnce_PrintsTheTreeAsNodesWithVotes()
    {
        var prompt = await SearchedPromptAsync();
        var (code, output, error) = await Spar("watch", WatchedRunFixture.RunId, "--once", "--format", "json", "--prompt", WatchFrame.PromptId(prompt), "--home", run.Home);

        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("completed", root.GetProperty("status").GetString());
        Assert.True(root.GetProperty("live").GetBoolean());
        Assert.Equal(6, root.GetProperty("prompts").GetArrayLength());
        var nodes = root.GetProperty("prompt").GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(prompt.Search!.Nodes.Count, nodes.Count);
        foreach (var (node, expected) in nodes.Zip(prompt.Search.Nodes))
        {
            Assert.Equal(expected.Id, node.GetProperty("id").GetInt32());
            Assert.Equal(expected.ParentId, node.GetProperty("parent_id").GetInt32());
            if (expected.Vote is { } vote)
            {
                Assert.Equal(vote.Yes, node.GetProperty("yes").GetInt32());
                Assert.Equal(vote.No, node.GetProperty("no").GetInt32());
            }
        }
    }

    [Fact]
    public async Task Watch_NoSiloRunning_RendersStoredStateAndSaysSo()
    {
        var prompt = await SearchedPromptAsync();
        // The same state without the endpoint file: as after `spar run` has exited.
        var home = Path.Combine(Path.GetTempPath(), $"spar-watch-copy-{Guid.NewGuid():N}");
        try
        {
            CopyDirectory(run.State, Path.Combine(home, ".state"), skip: "silos");
            var (code, output, error) = await Spar("watch", WatchedRunFixture.RunId, "--prompt", WatchFrame.PromptId(prompt), "--home", home);

            Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
            Assert.Contains("not running (completed): stored state", output);
            AssertShowsTree(output, prompt);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Watch_EndpointOfAFinishedRunDoesNotAnswer_SaysSoAndShowsTheStoredState()
    {
        await SearchedPromptAsync();
        var home = Path.Combine(Path.GetTempPath(), $"spar-watch-dead-{Guid.NewGuid():N}");
        try
        {
            var state = Path.Combine(home, ".state");
            CopyDirectory(run.State, state, skip: "silos");
            // A silo that has gone: its endpoint file is still there, its port answers no more.
            using var gone = SiloEndpoints.Advertise(state, run.Endpoint with { GatewayPort = ClosedPort() });

            var (code, output, error) = await Spar("watch", WatchedRunFixture.RunId, "--home", home).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
            Assert.Contains("went away: no silo answers on 127.0.0.1:", error);
            Assert.Contains("not running (completed): stored state", output);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task WebPage_OfAPrompt_ShowsItsTreeWithNodesVotesAndDiffs()
    {
        var prompt = await SearchedPromptAsync();
        using var http = new HttpClient { BaseAddress = run.Silo.WebAddress };

        var page = await http.GetStringAsync($"/runs/{WatchedRunFixture.RunId}?prompt={WatchFrame.PromptId(prompt)}");

        Assert.StartsWith("<!DOCTYPE html>", page);
        foreach (var node in prompt.Search!.Nodes)
        {
            Assert.Contains($"id=\"node-{node.Id}\"", page);
            if (node.Vote is { } vote)
            {
                Assert.Contains($"#{node.Id} · depth {node.Depth} · <span class=\"votes\">{WatchRenderer.Votes(vote)}</span>", page);
            }
        }
        Assert.Contains("<ins>", page);
        // The silo's verifiers (its IResponseVerifier) judge each sample beside its vote, and the root sample is marked.
        Assert.Contains("<span class=\"verifiers ", page);
        Assert.Contains($"#0 root (sample #{prompt.RootSample}) · depth 0", page);
        Assert.Contains("<li class=\"root-sample\">", page);
        // The run is over: the page no longer reloads itself.
        Assert.DoesNotContain("http-equiv=\"refresh\"", page);
    }

    [Fact]
    public async Task WebPage_RootAndUnknownRun_RedirectToTheRunAndAnswer404()
    {
        await SearchedPromptAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = run.Silo.WebAddress };

        var root = await http.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal($"/runs/{WatchedRunFixture.RunId}", root.Headers.Location?.OriginalString);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/runs/nope")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"/runs/{WatchedRunFixture.RunId}?prompt=nope")).StatusCode);
        using var json = JsonDocument.Parse(await http.GetStringAsync($"/api/runs/{WatchedRunFixture.RunId}"));
        Assert.Equal("completed", json.RootElement.GetProperty("status").GetString());
    }

    [ChromiumFact]
    public async Task WebPage_InHeadlessChromium_RendersTheTreeAndAScreenshot()
    {
        var prompt = await SearchedPromptAsync();
        var url = new Uri(run.Silo.WebAddress!, $"/runs/{WatchedRunFixture.RunId}?prompt={WatchFrame.PromptId(prompt)}");
        var shot = Path.Combine(run.Home, "page.png");

        // The DOM as the browser built it: every node of the tree is there.
        var dom = await Chromium.RunAsync(["--dump-dom"], url);
        foreach (var node in prompt.Search!.Nodes)
        {
            Assert.Contains($"id=\"node-{node.Id}\"", dom);
        }
        await Chromium.RunAsync(["--window-size=1000,800", $"--screenshot={shot}"], url);

        // A real PNG of the requested size with the page drawn on it (a blank page compresses to a few hundred bytes).
        var png = await File.ReadAllBytesAsync(shot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(1000, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(800, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(png.Length > 8_000, $"screenshot is only {png.Length} bytes: the page looks blank");
    }

    [Fact]
    public async Task Dashboard_OnTheSilosWebSide_ServesItsPageOnLoopback()
    {
        using var http = new HttpClient { BaseAddress = run.Silo.WebAddress };
        Assert.Equal("127.0.0.1", run.Silo.WebAddress!.Host);

        var response = await http.GetAsync(EmbeddedSilo.DashboardPath + "/");

        Assert.True(response.IsSuccessStatusCode, $"dashboard answered {(int)response.StatusCode}");
        Assert.Contains("html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Watch_UnknownRun_ExitsWithUserErrorPointingToList()
    {
        var (code, _, error) = await Spar("watch", "nope", "--once", "--home", run.Home);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("spar list", error);
    }

    [Fact]
    public async Task Watch_UnknownPrompt_ExitsWithUserErrorListingPrompts()
    {
        await SearchedPromptAsync();
        var (code, _, error) = await Spar("watch", WatchedRunFixture.RunId, "--once", "--prompt", "nope", "--home", run.Home);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("No prompt 'nope'", error);
    }

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void CopyDirectory(string from, string to, string skip)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            // The live silo's lock cannot be opened while it holds it, and a copy has no silo to lock it for.
            if (relative.StartsWith(skip + Path.DirectorySeparatorChar, StringComparison.Ordinal) || relative == StateDirectoryLock.FileName)
            {
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }
}

/// <summary>A writer that completes <see cref="Signalled"/> once its text contains a phrase (no polling).</summary>
internal sealed class SignallingWriter(string phrase) : StringWriter
{
    private readonly TaskCompletionSource _signalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Signalled => _signalled.Task;

    public override void Write(char value)
    {
        base.Write(value);
        Check();
    }

    public override void Write(string? value)
    {
        base.Write(value);
        Check();
    }

    public override void Write(char[] buffer, int index, int count)
    {
        base.Write(buffer, index, count);
        Check();
    }

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        Check();
    }

    private void Check()
    {
        if (ToString().Contains(phrase, StringComparison.Ordinal))
        {
            _signalled.TrySetResult();
        }
    }
}

/// <summary>
/// A run held in its sampling phase (generation waits on a gate) while its silo withdraws and re-advertises its
/// endpoint, as a stopping and resumed `spar run` would: the watcher must notice, wait, and reconnect by itself.
/// </summary>
public sealed class WatchReconnectTests : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"spar-watch-gate-{Guid.NewGuid():N}");
    private readonly GatedBackend _backend = new();
    private EmbeddedSilo _silo = null!;

    private string State => Path.Combine(_home, ".state");

    public async Task InitializeAsync() =>
        _silo = await EmbeddedSilo.StartAsync(State, configure: silo => silo.Services.AddSingleton<IGenerationBackend>(_backend));

    public async Task DisposeAsync()
    {
        _backend.Open();
        await _silo.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task Watch_EndpointWithdrawnMidRun_SaysSoThenReconnectsAndFollowsToTheEnd()
    {
        const string runId = "gated";
        var options = SimulatorOptions.Tiny with { Seed = 2, IterationPrompts = 3, SamplesPerPrompt = 3 };
        var first = SiloEndpoints.Advertise(State, new SiloEndpoint(runId, _silo.GatewayPort, Environment.ProcessId, DateTimeOffset.UnixEpoch));
        await _silo.Client.GetGrain<IRunGrain>(runId).StartAsync(
            new RunSpec(runId, Path.Combine(_home, runId), 2, 1, options.IterationPrompts, "bfs", "tiny", RunOptions.ToJson(options), options.SamplesPerPrompt));
        var stdout = new SignallingWriter("· sampling");
        var stderr = new SignallingWriter("went away");
        var watching = SparCli.InvokeAsync(["watch", runId, "--home", _home], stdout, stderr);

        await stdout.Signalled.WaitAsync(TimeSpan.FromSeconds(120));
        first.Dispose();
        await stderr.Signalled.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(watching.IsCompleted);
        using var second = SiloEndpoints.Advertise(State, new SiloEndpoint(runId, _silo.GatewayPort, Environment.ProcessId, DateTimeOffset.UnixEpoch.AddDays(1)));
        _backend.Open();
        var code = await watching.WaitAsync(TimeSpan.FromSeconds(120));

        Assert.True(code == ExitCodes.Success, $"exit {code}: {stderr}");
        Assert.Contains("withdrawn", stderr.ToString());
        Assert.Contains("reconnected", stderr.ToString());
        Assert.Contains($"run {runId} · completed", stdout.ToString());
    }

    /// <summary>The scripted backend behind a gate: generation waits until the test opens it.</summary>
    private sealed class GatedBackend : IGenerationBackend
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ScriptedBackend _inner = new();

        public void Open() => _gate.TrySetResult();

        public async Task<IReadOnlyList<Interfaces.Generation.Generated>> GenerateAsync(
            Interfaces.Generation.ModelRef model, IReadOnlyList<Interfaces.Generation.GenerationCall> calls, CancellationToken cancellationToken)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            return await _inner.GenerateAsync(model, calls, cancellationToken);
        }
    }
}
