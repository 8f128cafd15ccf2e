namespace SparOrleans.Storage;

/// <summary>
/// Where a grain's state blob lives, the one place that knows both layouts: the official Azure Blob provider's
/// (<c>{state}-{type}/{key}.json</c>, as <c>AzureBlobGrainStorage</c> names it) and our directory store's
/// (<c>{state}/{type}/{key}.json</c>, each segment escaped so any key is a safe relative path).
/// </summary>
public sealed class GrainStateLayout
{
    private readonly Func<string, string, string, string> _name;
    private readonly Func<string, string> _unescape;

    private GrainStateLayout(Func<string, string, string, string> name, Func<string, string> unescape)
    {
        _name = name;
        _unescape = unescape;
    }

    /// <summary>The official provider's name: <c>$"{grainType}-{grainId}.json"</c>, where a grain id prints as <c>type/key</c>.</summary>
    public static GrainStateLayout AzureBlob { get; } = new((state, type, key) => $"{state}-{type}/{key}.json", key => key);

    /// <summary><see cref="DirectoryGrainStorage"/>'s name, readable in a file browser.</summary>
    public static GrainStateLayout Directory { get; } = new(
        (state, type, key) => $"{Uri.EscapeDataString(state)}/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(key)}.json", Uri.UnescapeDataString);

    public string BlobName(string stateName, GrainId grainId) => _name(stateName, grainId.Type.ToString()!, grainId.Key.ToString()!);

    public string BlobName(string stateName, string grainType, string key) => _name(stateName, grainType, key);

    /// <summary>The common prefix of every state blob of <paramref name="grainType"/> (for listing).</summary>
    public string Prefix(string stateName, string grainType) => BlobName(stateName, grainType, "")[..^".json".Length];

    /// <summary>The grain key of a blob listed under <see cref="Prefix"/>.</summary>
    public string KeyOf(string stateName, string grainType, string blobName) =>
        _unescape(blobName[Prefix(stateName, grainType).Length..^".json".Length]);
}
