using System.Net;
using SparOrleans.Core.Options;

namespace SparOrleans.OpenAi.Server;

/// <summary>
/// Options of <see cref="OpenAiServer"/>: where to listen (<see cref="Address"/>, loopback by default;
/// <see cref="Port"/> 0 picks a free one; any other address only with <see cref="AllowRemote"/>), the API key, and
/// the generation service's row budget and threads.
/// </summary>
public sealed record OpenAiServerOptions : IValidatedOptions
{
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    public int Port { get; init; } = 8000;

    public string? ApiKey { get; init; }

    /// <summary>Listening off loopback is asked for explicitly: without <see cref="ApiKey"/> anyone who can reach the port could use the models.</summary>
    public bool AllowRemote { get; init; }

    public int MaxBatchSize { get; init; } = 64;

    public int? Threads { get; init; }

    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange("port", Port, 0, 65535)
        .InRange("max_batch_size", MaxBatchSize, 1, 4096)
        .Require(Threads is null or > 0, $"threads must be greater than 0 (got {Threads})")
        .Require(ApiKey is null || (ApiKey.Length > 0 && !ApiKey.Any(char.IsWhiteSpace)), "the API key must be non-empty and hold no whitespace")
        .Require(IsLoopback || AllowRemote,
            $"listening on {Address} (not loopback) must be allowed explicitly (AllowRemote): other machines could reach the models");
}
