using System.CommandLine;

namespace SparOrleans.Client.Cli;

public enum OutputFormat
{
    Text,
    Json,
    Jsonl,
}

/// <summary>The <c>--format</c> option shared by every verb that prints results.</summary>
public static class FormatOption
{
    public static Option<OutputFormat> Create(OutputFormat defaultFormat = OutputFormat.Text, params OutputFormat[] allowed)
    {
        var option = new Option<OutputFormat>("--format")
        {
            Description = "Output format: text (human, default), json (machine-readable on stdout)",
            DefaultValueFactory = _ => defaultFormat,
        };
        if (allowed.Length > 0)
        {
            option.AcceptOnlyFromAmong([.. allowed.Select(f => f.ToString().ToLowerInvariant())]);
        }
        return option;
    }
}
