using System.Net;
using SparOrleans.Core.Options;

namespace SparOrleans.OpenAi.Server;

/// <summary>
/// Options of <see cref="OpenAiServer"/>: where to listen (<see cref="Address"/>, loopback by default;
/// <see cref="Port"/> 0 picks a free one), the API key (required off loopback: the server would otherwise answer
/// anyone who can reach it), and the generation service's row budget and threads.
/// </summary>
public sealed record OpenAiServerOptions : IValidatedOptions
{
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    public int Port { get; init; } = 8000;

    public string? ApiKey { get; init; }

    public int MaxBatchSize { get; init; } = 64;

    public int? Threads { get; init; }

    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public IEnumerable<string> Problems() => new ProblemList()
        .InRange("port", Port, 0, 65535)
        .InRange("max_batch_size", MaxBatchSize, 1, 4096)
        .Require(Threads is null or > 0, $"threads must be greater than 0 (got {Threads})")
        .Require(ApiKey is null || (ApiKey.Length > 0 && !ApiKey.Any(char.IsWhiteSpace)), "the API key must be non-empty and hold no whitespace")
        .Require(IsLoopback || ApiKey is not null,
            $"listening on {Address} (not loopback) needs an API key: without one anyone who can reach the port could use the models");
}
