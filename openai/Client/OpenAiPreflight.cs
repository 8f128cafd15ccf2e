using Polly.Timeout;
using SparOrleans.Core.Errors;

namespace SparOrleans.OpenAi.Client;

/// <summary>
/// The check a command runs before it hands models on an OpenAI-compatible server to a run: the server answers, the
/// key is accepted and every name is served. One attempt with a short timeout, so a wrong URL or key is reported in
/// seconds with one sentence instead of surfacing as generation failures minutes into the run.
/// </summary>
public static class OpenAiPreflight
{
    /// <summary>How long the server gets to list its models; the client's retries would turn a typo into minutes.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The environment variable the silos read the key from, named in the message about a refused key.</summary>
    public const string ApiKeyVariable = "SPAR_OPENAI_API_KEY";

    /// <summary>Throws a <see cref="UserInputException"/> saying what is wrong, or returns when all is well.</summary>
    public static async Task CheckAsync(Uri baseUrl, IReadOnlyList<string> names, string? apiKey, CancellationToken cancellationToken = default)
    {
        OpenAiGenerationClient client;
        try
        {
            client = new OpenAiGenerationClient(new OpenAiClientOptions
            {
                BaseUrl = baseUrl,
                ApiKey = apiKey,
                MaxRetries = 0,
                AttemptTimeout = Timeout,
                MaxConcurrency = 1,
            });
        }
        catch (UserInputException e)
        {
            throw new UserInputException($"the OpenAI-compatible server's settings are wrong: {e.Message}", e);
        }
        IReadOnlyList<string> served;
        using (client)
        {
            try
            {
                served = [.. (await client.ListModelsAsync(cancellationToken)).Select(m => m.Id)];
            }
            catch (OpenAiClientException e)
            {
                throw new UserInputException(Explain(baseUrl, e, apiKey), e);
            }
        }
        foreach (var name in names)
        {
            if (!served.Contains(name, StringComparer.Ordinal))
            {
                throw new UserInputException(
                    $"the server at {baseUrl} does not serve model '{name}' (it serves: {(served.Count == 0 ? "nothing" : string.Join(", ", served))}).");
            }
        }
    }

    private static string Explain(Uri baseUrl, OpenAiClientException e, string? apiKey) => e.Status switch
    {
        401 or 403 when apiKey is null =>
            $"the server at {baseUrl} wants an API key ({e.Status}: {e.ServerMessage}); set {ApiKeyVariable} to its key.",
        401 or 403 =>
            $"the server at {baseUrl} refused the API key ({e.Status}: {e.ServerMessage}); the key is wrong: set {ApiKeyVariable} to the server's key.",
        { } status => $"the server at {baseUrl} answered GET /v1/models with {status}: {e.ServerMessage}",
        null when e.InnerException is TimeoutRejectedException =>
            $"the server at {baseUrl} did not answer within {Timeout.TotalSeconds:0} s; is it running there, and is the URL right?",
        null when e.InnerException is HttpRequestException or IOException =>
            $"cannot reach the server at {baseUrl} ({e.InnerException.Message}); is it running there, and is the URL right?",
        null => $"the server at {baseUrl} does not answer as an OpenAI-compatible server does: {e.Message}",
    };
}
