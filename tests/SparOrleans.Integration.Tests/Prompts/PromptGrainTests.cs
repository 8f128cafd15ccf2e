using SparOrleans.Models.Generation;
using SparOrleans.Models.Search;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Grains.Placement;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Silo.Hosting;

namespace SparOrleans.Integration.Tests.Prompts;

/// <summary>A gpu silo (Silo_0) with the scripted backend and a cpu silo (Silo_1), as in a real deployment.</summary>
public sealed class TwoRoleClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            var gpu = options.SiloName == "Silo_0";
            if (gpu)
            {
                silo.Services.AddSingleton<IGenerationBackend, ScriptedBackend>();
            }
            silo.ConfigureSpar(new SparSiloOptions { Roles = gpu ? [SiloRoles.Gpu] : [SiloRoles.Cpu] }).UseInMemoryReminderService();
        });
        builder.ConfigureClient(client => client.Services.AddSparSerialization());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class PromptGrainTests(TwoRoleClusterFixture fixture) : IClassFixture<TwoRoleClusterFixture>
{
    private static IterationContext Context(string runId) => new(
        runId,
        Iteration: 1,
        Actor: new ModelRef(ModelRole.Actor, "actor-v0", "/nowhere"),
        Refiner: new ModelRef(ModelRole.Refiner, "refiner-v0", "/nowhere"),
        Seed: 7,
        FormatName: "compact",
        SamplesPerPrompt: 5,
        Sampling: new SamplingOptions(),
        InitialVoting: VotingOptions.InitialJudging,
        Policy: SearchPolicyKind.Bfs,
        Search: new TreeSearchOptions(),
        TreeVoting: VotingOptions.TreeSearch);

    private IGrainFactory Grains => fixture.Cluster.Client;

    private static async Task<T> RetryPlacementAsync<T>(Func<Task<T>> call) => await Placement.RoleMetadata.CallWhenPropagatedAsync(call);

    [Fact]
    public async Task GenerateAsync_FromClient_RunsOnGpuSiloOnly()
    {
        var calls = Enumerable.Range(0, 6).Select(i => new GenerationCall([new Turn("user", "A|write")], 0.9, 0.9, 16, i)).ToList();
        var generated = await RetryPlacementAsync(() => Grains.GetGrain<IGenerationGrain>(0).GenerateAsync(Context("gen").Actor, calls));
        Assert.All(generated, g => Assert.Equal("Silo_0", g.Silo));
    }

    [Fact]
    public async Task GenerateAsync_BackendAnswersWithAnotherVersion_TheCallFailsNamingBoth()
    {
        // Texts of another model would be trained on as this version's without a trace (a model host once answered one
        // run's calls with another run's model): the generation grain refuses them.
        var calls = new[] { new GenerationCall([new Turn("user", "A|write")], 0.9, 0.9, 16, 1) };
        var model = new ModelRef(ModelRole.Actor, ScriptedBackend.AnswersAsAnother, "/nowhere");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RetryPlacementAsync(() => Grains.GetGrain<IGenerationGrain>(0).GenerateAsync(model, calls)));
        Assert.Contains($"model version {ScriptedBackend.AnswersAsAnother} was answered by version another-version", error.Message);
        Assert.False(RunFaults.IsTransient(error));
    }

    [Theory]
    [InlineData(SearchPolicyKind.Bfs)]
    [InlineData(SearchPolicyKind.Dfs)]
    [InlineData(SearchPolicyKind.Greedy)]
    [InlineData(SearchPolicyKind.Iterative)]
    [InlineData(SearchPolicyKind.Bfs, PairSource.SelfRefine)]
    public async Task SearchAsync_ThroughGrains_MatchesCorePolicyRunDirectly(SearchPolicyKind policy, PairSource pairs = PairSource.Refinement)
    {
        var context = Context($"run-direct-{policy}-{pairs}") with { Policy = policy, Pairs = pairs };
        var format = RoleFormats.Compact;
        GenerateTexts direct = (_, calls, _) => Task.FromResult<IReadOnlyList<string>>(calls.Select(ScriptedBackend.Answer).ToList());
        var searched = 0;
        var winners = 0;
        for (var p = 0; p < 16; p++)
        {
            var key = PromptKeys.Prompt(context.RunId, context.Iteration, $"p{p}");
            var grain = Grains.GetGrain<IPromptGrain>(key);
            var spec = new PromptSpec($"p{p}", $"Write answer number {p}.", [], []);
            await RetryPlacementAsync(async () => { await grain.SampleAsync(context, spec); return 0; });
            await grain.JudgeAsync(context);
            var outcome = await grain.SearchAsync(context);
            var snapshot = await grain.GetSnapshotAsync();
            Assert.Equal(PromptPhase.Done, snapshot.Phase);
            if (snapshot.Search is not { } viaGrains)
            {
                Assert.False(outcome.HadNegative);
                // Stored with the outcome: the views tell "all votes invalid" from "every sample judged right".
                Assert.Equal(NegativeSelection.WhyNone([.. snapshot.Samples.Select(j => j.Vote)]), outcome.NoNegative);
                Assert.NotNull(outcome.NoNegative);
                Assert.Null(snapshot.RootSample);
                continue;
            }
            searched++;
            Assert.Null(outcome.NoNegative);
            // The sample the tree refines is recorded: a No majority whose text is the root's.
            var rootSample = snapshot.Samples[Assert.IsType<int>(snapshot.RootSample)];
            Assert.Equal(viaGrains.Root.Response, rootSample.Response);
            Assert.Equal(Verdict.No, rootSample.Vote.Majority);
            winners += outcome.FoundWinner ? 1 : 0;
            Assert.InRange(viaGrains.Expansions, 1, policy == SearchPolicyKind.Greedy ? 1 : 15);
            Assert.Equal(policy, viaGrains.Policy);
            Assert.Equal(outcome.FoundWinner, outcome.Pair is not null);

            var start = TreeSearch.Start(context.Policy, spec.Instruction, viaGrains.Root.Response!, viaGrains.Root.Judgment!, context.Search, context.TreeVoting);
            var directRun = await SearchRunner.RunAsync(start, new ModelRefinementEnvironment(format, context.Sampling, direct, context.Seed, key));
            Assert.Equal(JsonSerializer.Serialize(directRun.Nodes), JsonSerializer.Serialize(viaGrains.Nodes));
            Assert.Equal(directRun.End, viaGrains.End);

            foreach (var node in viaGrains.Nodes.Skip(1))
            {
                var child = await Grains.GetGrain<ITreeNodeGrain>(PromptKeys.Node(key, node.Id)).GetAsync();
                Assert.Equal(node.ParentId, child.ParentId);
                Assert.Equal("Silo_1", child.Silo);
            }
        }
        Assert.True(searched >= 4, $"only {searched} of 16 prompts had a negative");
        Assert.True(winners >= (policy == SearchPolicyKind.Greedy ? 1 : 2), $"only {winners} searches found a winner");
    }

    [Theory]
    [InlineData(PairSource.SelfRewarding)]
    [InlineData(PairSource.MetaRewarding)]
    [InlineData(PairSource.Interfering)]
    public async Task SearchAsync_BaselinePairSource_PairsJudgedSamplesWithoutATree(PairSource source)
    {
        var context = Context($"run-{source}") with { Pairs = source };
        var pairs = 0;
        for (var p = 0; p < 16; p++)
        {
            var grain = Grains.GetGrain<IPromptGrain>(PromptKeys.Prompt(context.RunId, context.Iteration, $"p{p}"));
            await RetryPlacementAsync(async () => { await grain.SampleAsync(context, new PromptSpec($"p{p}", $"Write answer number {p}.", [], [])); return 0; });
            var judged = await grain.JudgeAsync(context);
            var outcome = await grain.SearchAsync(context);
            var snapshot = await grain.GetSnapshotAsync();

            Assert.Equal(PromptPhase.Done, snapshot.Phase);
            Assert.Null(snapshot.Search);
            Assert.False(outcome.HadNegative);
            Assert.Null(outcome.NoNegative); // a baseline looks for no negative
            Assert.Equal(0, outcome.Expansions);
            if (outcome.Pair is not { } pair)
            {
                continue;
            }
            pairs++;
            // The same text can be sampled twice and voted on differently: one of its samples is the one paired.
            var chosen = judged.Where(j => j.Response == pair.Chosen).Select(j => j.Vote).ToList();
            var rejected = judged.Where(j => j.Response == pair.Rejected).Select(j => j.Vote).ToList();
            if (source is PairSource.SelfRewarding or PairSource.MetaRewarding)
            {
                Assert.Equal(judged.Max(j => j.Vote.Value), chosen.Max(v => v.Value));
                Assert.Equal(judged.Where(j => j.Vote.Value is not null).Min(j => j.Vote.Value), rejected.Min(v => v.Value));
            }
            else
            {
                Assert.Contains(chosen, v => v.Majority == Verdict.Yes);
                Assert.Contains(rejected, v => v.Majority == Verdict.No);
            }
        }
        Assert.True(pairs >= 2, $"only {pairs} of 16 prompts gave a {source} pair");
    }

    [Fact]
    public async Task SearchAsync_CalledTwice_ReturnsStoredOutcomeWithoutGenerating()
    {
        var context = Context("run-idempotent");
        var key = PromptKeys.Prompt(context.RunId, 1, "p0");
        var grain = Grains.GetGrain<IPromptGrain>(key);
        await RetryPlacementAsync(async () => { await grain.SampleAsync(context, new PromptSpec("p0", "Write answer.", [], [])); return 0; });
        var firstJudged = await grain.JudgeAsync(context);
        var first = await grain.SearchAsync(context);
        var backend = (ScriptedBackend)fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Silos[0].SiloAddress).GetRequiredService<IGenerationBackend>();
        var callsBefore = backend.Calls;
        await grain.SampleAsync(context, new PromptSpec("p0", "Write answer.", [], []));
        var secondJudged = await grain.JudgeAsync(context);
        var second = await grain.SearchAsync(context);
        Assert.Equal(callsBefore, backend.Calls);
        Assert.Equal(JsonSerializer.Serialize(firstJudged), JsonSerializer.Serialize(secondJudged));
        Assert.Equal(JsonSerializer.Serialize(first), JsonSerializer.Serialize(second));
    }
}
