using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace SparOrleans.Storage;

/// <summary>
/// How grain state is written, in every store and by every reader: Orleans' System.Text.Json grain-storage serializer
/// (readable JSON blobs) with its default settings, plus named floating-point literals.
/// </summary>
public static class GrainStateJson
{
    private static readonly SystemTextJsonGrainStorageSerializerOptions SerializerOptions = Create();

    /// <summary>The settings, for tools that read stored state without Orleans.</summary>
    public static JsonSerializerOptions Options => SerializerOptions.JsonSerializerOptions;

    /// <summary>The grain-storage serializer both providers use.</summary>
    public static IGrainStorageSerializer Serializer { get; } = new SystemTextJsonGrainStorageSerializer(Microsoft.Extensions.Options.Options.Create(SerializerOptions));

    private static SystemTextJsonGrainStorageSerializerOptions Create()
    {
        var options = new SystemTextJsonGrainStorageSerializerOptions();
        // A figure a run did not measure is NaN in its reports (a model run without an evaluation set), and a state
        // that holds one must still be stored.
        options.JsonSerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        options.JsonSerializerOptions.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
