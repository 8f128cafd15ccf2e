using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;

namespace SparOrleans.Engine.Generation;

/// <summary>
/// One generation: the chat to continue as the assistant and how to sample. <see cref="Temperature"/> 0 is greedy
/// (default 1, range 0–10); <see cref="TopP"/> in (0, 1] (default 1); <see cref="MaxNewTokens"/> ≥ 1 (default 256);
/// <see cref="Seed"/> drives this request's own random stream, so the same seed gives the same output whatever
/// else shares the batch. Generation stops at the template's end-of-turn token (unless
/// <see cref="StopAtEndOfTurn"/> is false) or at the first of <see cref="StopStrings"/>, which is cut off.
/// </summary>
public sealed record GenerationRequest(IReadOnlyList<ChatMessage> Prompt) : IValidatedOptions
{
    public int MaxNewTokens { get; init; } = 256;

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    public long Seed { get; init; }

    public IReadOnlyList<string> StopStrings { get; init; } = [];

    public bool StopAtEndOfTurn { get; init; } = true;

    /// <summary>
    /// Token ids continued exactly as given, in place of the template's rendering of <see cref="Prompt"/>: raw text
    /// prompts and chats rendered by the caller must reach the model without the template's role tokens.
    /// </summary>
    public IReadOnlyList<int>? PromptTokenIds { get; init; }

    /// <summary>A single user turn.</summary>
    public static GenerationRequest FromUser(string text) => new([new ChatMessage(ChatMessage.User, text)]);

    /// <summary>A prompt of token ids, continued as they are.</summary>
    public static GenerationRequest FromTokens(IReadOnlyList<int> tokenIds) => new([]) { PromptTokenIds = tokenIds };

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(PromptTokenIds is null ? Prompt.Count > 0 : PromptTokenIds.Count > 0,
            PromptTokenIds is null ? "prompt must have at least one message" : "prompt token ids must not be empty")
        .Positive("max_new_tokens", MaxNewTokens)
        .InRange("temperature", Temperature, 0, 10)
        .Require(TopP > 0 && TopP <= 1, $"top_p must be in (0, 1] (got {TopP})")
        .Require(StopStrings.All(s => s.Length > 0), "stop strings must not be empty");
}

/// <summary>Why a generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model ended its turn.</summary>
    EndOfTurn,

    /// <summary>A stop string appeared (it is not part of the text).</summary>
    StopString,

    /// <summary>The token budget ran out.</summary>
    Length,
}

/// <summary>The generated text, its token ids, why it ended, and the model version that produced it.</summary>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, FinishReason FinishReason, int PromptTokens, string ModelVersion);
