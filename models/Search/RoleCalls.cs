using StableHash = SparOrleans.Core.StableHash;
using SparOrleans.Core.Formats;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Models.Search;

/// <summary>
/// Builds the generation calls of each SPaR role. Every call's seed is derived from the run seed and the call's
/// place in the run (prompt, node, attempt, round, sample), never from timing, so a resumed or re-routed search
/// asks for exactly the same generations.
/// </summary>
public static class RoleCalls
{
    public static GenerationCall Actor(IRoleFormat format, SamplingOptions sampling, string instruction, long seed) =>
        Call(format.ActorPrompt(instruction), sampling.ActorTemperature, sampling.ActorTopP, sampling.ActorMaxTokens, seed);

    public static GenerationCall Judge(IRoleFormat format, SamplingOptions sampling, string instruction, string response, long seed, bool greedy = false) =>
        Call(format.JudgePrompt(instruction, response), greedy ? 0 : sampling.JudgeTemperature, sampling.TopP, sampling.JudgeMaxTokens, seed);

    public static GenerationCall Refine(IRoleFormat format, SamplingOptions sampling, string instruction, string response, string judgment, long seed, bool greedy) =>
        Call(format.RefinePrompt(instruction, response, judgment), greedy ? 0 : sampling.RefineTemperature, sampling.TopP, sampling.RefineMaxTokens, seed);

    /// <summary>A seed for one generation, from the run seed and the generation's coordinates.</summary>
    public static long Seed(int runSeed, string scope, params long[] coordinates) =>
        StableHash.Combine(StableHash.Combine(runSeed, scope), coordinates);

    private static GenerationCall Call(IReadOnlyList<ChatMessage> messages, double temperature, double topP, int maxTokens, long seed) =>
        new(messages.Select(m => new Turn(m.Role, m.Content)).ToList(), temperature, topP, maxTokens, seed);
}
