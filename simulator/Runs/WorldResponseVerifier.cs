using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.World.Constraints;

namespace SparOrleans.Simulator.Runs;

/// <summary>
/// The world's verifiers (IFEval's and the world's <c>sim:</c> checks, <see cref="WorldInstructions"/>): a response
/// follows its prompt when every constraint's check passes. Unknown where a constraint has no verifier here.
/// </summary>
public sealed class WorldResponseVerifier : IResponseVerifier
{
    public bool? Follows(RunSpec spec, PromptSpec prompt, string response)
    {
        try
        {
            return prompt.InstructionIds
                .Select((id, i) => WorldInstructions.Get(id).IsFollowed(response, (JsonObject)JsonNode.Parse(prompt.KwargsJson[i])!))
                .All(ok => ok);
        }
        catch (UserInputException)
        {
            return null;
        }
    }
}
