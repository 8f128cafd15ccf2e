namespace SparOrleans.Interfaces.Generation;

/// <summary>Which of the two SPaR models a generation uses.</summary>
public enum ModelRole
{
    Actor,
    Refiner,
}

/// <summary>A model version the GPU-role silos can load: role, version tag (e.g. <c>actor-v1</c>) and its checkpoint directory.</summary>
[GenerateSerializer, Immutable, Alias("spar.model-ref")]
public sealed record ModelRef(
    [property: Id(0)] ModelRole Role,
    [property: Id(1)] string Version,
    [property: Id(2)] string CheckpointDirectory);

/// <summary>One chat turn on the wire.</summary>
[GenerateSerializer, Immutable, Alias("spar.turn")]
public sealed record Turn([property: Id(0)] string Role, [property: Id(1)] string Content);

/// <summary>
/// One generation: the chat to continue and how to sample. <see cref="Seed"/> fixes this call's random stream, so the
/// same call gives the same text whatever shares its batch (grain path and direct path agree).
/// </summary>
[GenerateSerializer, Immutable, Alias("spar.generation-call")]
public sealed record GenerationCall(
    [property: Id(0)] IReadOnlyList<Turn> Prompt,
    [property: Id(1)] double Temperature,
    [property: Id(2)] double TopP,
    [property: Id(3)] int MaxNewTokens,
    [property: Id(4)] long Seed);

/// <summary>A generated text and the silo whose model produced it (so tests can prove where generation ran).</summary>
[GenerateSerializer, Immutable, Alias("spar.generated")]
public sealed record Generated(
    [property: Id(0)] string Text,
    [property: Id(1)] int Tokens,
    [property: Id(2)] string Silo,
    [property: Id(3)] string ModelVersion);

/// <summary>
/// The door to the models: a stateless worker placed only on GPU-role silos, which hands every call to the silo's
/// continuous-batching generation service. Calls from many prompt and tree-node grains share one batch.
/// </summary>
[Alias("spar.generation")]
public interface IGenerationGrain : IGrainWithIntegerKey
{
    [ResponseTimeout("00:10:00")]
    Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken = default);
}
