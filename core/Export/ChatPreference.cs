using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Export;

/// <summary>
/// A DPO pair as a trainer sees it: the actor's prompt turns, rendered by a role format (the prompt a model is asked
/// with, not the bare instruction), then the chosen and the rejected answer.
/// </summary>
public sealed record ChatPreference(IReadOnlyList<ChatMessage> Prompt, string Chosen, string Rejected)
{
    public static ChatPreference From(DpoPair pair, IRoleFormat format) => new(format.ActorPrompt(pair.Prompt), pair.Chosen, pair.Rejected);
}
