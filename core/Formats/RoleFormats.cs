using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Formats;

/// <summary>The role formats by name, for options and messages that carry a format as text.</summary>
public static class RoleFormats
{
    public static readonly IRoleFormat Paper = new PaperFormat();

    public static readonly IRoleFormat Compact = new CompactFormat();

    public static IReadOnlyList<string> Names { get; } = [Paper.Name, Compact.Name];

    public static IRoleFormat ByName(string name) => name switch
    {
        "paper" => Paper,
        "compact" => Compact,
        _ => throw new UserInputException($"Unknown role format '{name}'; known formats: {string.Join(", ", Names)}."),
    };
}
