namespace SparOrleans.OpenAi.Client;

/// <summary>
/// A call that failed for good: a 4xx other than 408/429 (not retried), retries used up, the circuit open, or an
/// answer that is not OpenAI's shape. <see cref="Status"/> is the last HTTP status (null when none came back).
/// </summary>
public sealed class OpenAiClientException(string message, int? status = null, string? serverMessage = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int? Status { get; } = status;

    /// <summary>The server's <c>error.message</c> (or its body's start when it is not OpenAI's error shape).</summary>
    public string? ServerMessage { get; } = serverMessage;
}
