using SparOrleans.Models.Search;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Search;
using SparOrleans.Grains.Generation;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Grains.Prompts;

/// <summary>
/// One refinement-tree child. It expands once (refine, then judge with voting) and keeps the outcome, so a repeated
/// call after a crash or a retry returns the stored result instead of generating again.
/// </summary>
[GrainType("tree-node")]
[RequireSiloRole(SiloRoles.Cpu)]
public sealed class TreeNodeGrain(
    [PersistentState("state", SparStorage.Name)] IPersistentState<TreeNodeGrain.NodeState> state,
    IGrainFactory grains,
    ILocalSiloDetails silo) : Grain, ITreeNodeGrain
{
    public async Task<ChildOutcome> ExpandAsync(IterationContext context, SearchState snapshot, int nodeId)
    {
        if (state.State.Outcome is { } done)
        {
            return done;
        }
        var node = snapshot.Nodes[nodeId];
        state.State.NodeId = nodeId;
        state.State.ParentId = node.ParentId;
        state.State.Depth = node.Depth;
        var environment = new ModelRefinementEnvironment(
            RoleFormats.ByName(context.FormatName),
            context.Sampling,
            GrainGeneration.Texts(grains, context),
            context.Seed,
            this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().LastIndexOf('/')]);
        var outcome = await SearchRunner.ExpandChildAsync(snapshot, nodeId, environment);
        state.State.Outcome = outcome;
        state.State.Silo = silo.Name;
        await state.WriteStateAsync();
        return outcome;
    }

    public Task<TreeNodeSnapshot> GetAsync() => Task.FromResult(new TreeNodeSnapshot(
        this.GetPrimaryKeyString(), state.State.NodeId, state.State.ParentId, state.State.Depth, state.State.Outcome, state.State.Silo));

    [GenerateSerializer, Alias("spar.tree-node-state")]
    public sealed class NodeState
    {
        [Id(0)] public int NodeId { get; set; }

        [Id(1)] public int ParentId { get; set; }

        [Id(2)] public int Depth { get; set; }

        [Id(3)] public ChildOutcome? Outcome { get; set; }

        [Id(4)] public string? Silo { get; set; }
    }
}
