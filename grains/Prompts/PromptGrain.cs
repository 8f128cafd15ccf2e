using SparOrleans.Models.Search;
using StableHash = SparOrleans.Core.StableHash;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Grains.Generation;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Grains.Prompts;

/// <summary>
/// One prompt of one iteration: samples K actor responses, has the refiner vote on each, picks its negative, and
/// grows the refinement tree through <see cref="ITreeNodeGrain"/> children, persisting after every step. Each phase
/// is idempotent, so a coordinator that restarts calls again and gets the stored result. Under a baseline's
/// <see cref="PairSource"/> there is no tree: the pair comes from the judged samples alone.
/// </summary>
[GrainType("prompt")]
[RequireSiloRole(SiloRoles.Cpu)]
public sealed class PromptGrain(
    [PersistentState("state", SparStorage.Name)] IPersistentState<PromptGrain.PromptState> state,
    IGrainFactory grains) : Grain, IPromptGrain
{
    private string Key => this.GetPrimaryKeyString();

    public async Task SampleAsync(IterationContext context, PromptSpec prompt)
    {
        if (state.State.Phase >= PromptPhase.Sampled)
        {
            return;
        }
        var format = RoleFormats.ByName(context.FormatName);
        var calls = Enumerable.Range(0, context.SamplesPerPrompt)
            .Select(i => RoleCalls.Actor(format, context.Sampling, prompt.Instruction, RoleCalls.Seed(context.Seed, Key, 0, i)))
            .ToList();
        var texts = await GrainGeneration.Texts(grains, context)(ModelRole.Actor, calls, default);
        state.State.Prompt = prompt;
        state.State.Samples = [.. texts];
        state.State.Phase = PromptPhase.Sampled;
        await state.WriteStateAsync();
    }

    public async Task<IReadOnlyList<JudgedSample>> JudgeAsync(IterationContext context)
    {
        if (state.State.Phase >= PromptPhase.Judged)
        {
            return state.State.Judged;
        }
        var prompt = RequirePrompt();
        var format = RoleFormats.ByName(context.FormatName);
        var generate = GrainGeneration.Texts(grains, context);
        // All K votes run at once so their k judge generations join the GPU silo's batch together.
        var votes = await Task.WhenAll(state.State.Samples.Select((response, i) => MajorityVote.JudgeAsync(
            (round, samples, ct) => generate(
                ModelRole.Refiner,
                Enumerable.Range(0, samples)
                    .Select(j => RoleCalls.Judge(format, context.Sampling, prompt.Instruction, response, RoleCalls.Seed(context.Seed, Key, 3, i, round, j)))
                    .ToList(),
                ct),
            format,
            context.InitialVoting,
            $"{Key}/{i}")));
        state.State.Judged = [.. state.State.Samples.Zip(votes, (response, vote) => new JudgedSample(response, vote))];
        state.State.Phase = PromptPhase.Judged;
        await state.WriteStateAsync();
        return state.State.Judged;
    }

    public async Task<PromptOutcome> SearchAsync(IterationContext context)
    {
        if (state.State.Outcome is { } done)
        {
            return done;
        }
        var prompt = RequirePrompt();
        var judged = new JudgedPrompt(prompt.PromptId, prompt.Instruction, state.State.Judged.Select(j => new JudgedResponse(j.Response, j.Vote)).ToList());
        if (!context.Pairs.UsesTreeSearch())
        {
            return await FinishAsync(context, judged, search: null, BaselinePairs.FromJudged(context.Pairs, judged, StableHash.Combine(context.Seed, Key)));
        }
        if (state.State.Search is null)
        {
            var root = NegativeSelection.Select([judged], context.Seed).FirstOrDefault();
            if (root is null)
            {
                return await FinishAsync(context, judged, search: null);
            }
            state.State.Search = TreeSearch.Start(context.Policy, prompt.Instruction, root.Response, root.Judgment, context.Search, context.TreeVoting);
            state.State.RootSample = root.SampleIndex;
            state.State.Phase = PromptPhase.Searching;
            await state.WriteStateAsync();
        }
        var finished = await SearchRunner.RunAsync(
            state.State.Search,
            (snapshot, nodeId, _) => grains.GetGrain<ITreeNodeGrain>(PromptKeys.Node(Key, nodeId)).ExpandAsync(context, snapshot, nodeId),
            async (progress, _) =>
            {
                state.State.Search = progress;
                await state.WriteStateAsync();
            });
        return await FinishAsync(context, judged, finished);
    }

    public Task<PromptSnapshot> GetSnapshotAsync() => Task.FromResult(state.State.Snapshot(Key));

    private async Task<PromptOutcome> FinishAsync(IterationContext context, JudgedPrompt judged, SearchState? search, DpoPair? baselinePair = null)
    {
        var format = RoleFormats.ByName(context.FormatName);
        var rft = RftData.InitialJudgments(judged, format, context.RftVotes).ToList();
        if (search is not null)
        {
            if (RftData.Refinement(search, format) is { } refinement)
            {
                rft.Add(refinement);
            }
            rft.AddRange(RftData.TreeJudgments(search, format, context.RftVotes));
        }
        var outcome = new PromptOutcome(
            judged.PromptId,
            HadNegative: search is not null,
            FoundWinner: search?.Winner is not null,
            Expansions: search?.Expansions ?? 0,
            WinnerDepth: search?.Winner?.Depth,
            Pair: search is null ? baselinePair : DpoPairs.FromSearch(search),
            RftCandidates: rft,
            Judged: state.State.Judged,
            // Only a tree-search prompt looks for a negative; a baseline's pair comes from the judged samples alone.
            NoNegative: search is null && context.Pairs.UsesTreeSearch() ? NegativeSelection.WhyNone([.. judged.Responses.Select(r => r.Vote)]) : null);
        state.State.Search = search;
        state.State.Outcome = outcome;
        state.State.Phase = PromptPhase.Done;
        await state.WriteStateAsync();
        return outcome;
    }

    private PromptSpec RequirePrompt() =>
        state.State.Prompt ?? throw new InvalidOperationException($"Prompt {Key} has not been sampled yet: call SampleAsync first.");

    [GenerateSerializer, Alias("spar.prompt-state")]
    public sealed class PromptState
    {
        [Id(0)] public PromptPhase Phase { get; set; }

        [Id(1)] public PromptSpec? Prompt { get; set; }

        [Id(2)] public List<string> Samples { get; set; } = [];

        [Id(3)] public List<JudgedSample> Judged { get; set; } = [];

        [Id(4)] public SearchState? Search { get; set; }

        [Id(5)] public PromptOutcome? Outcome { get; set; }

        /// <summary>Which sample became the tree's root (null without a tree, and in state stored before it was kept).</summary>
        [Id(6)] public int? RootSample { get; set; }

        /// <summary>The state as researchers see it (the live grain and the stored-state readers alike).</summary>
        public PromptSnapshot Snapshot(string key) => new(key, Phase, Prompt, Judged, Search, Outcome, RootSample);
    }
}
