using System.Text.Json.Nodes;

namespace SparOrleans.Verifiers.IfEval;

/// <summary>
/// One IFEval instruction type (e.g. <c>punctuation:no_comma</c>) with the official semantics. The simulated world
/// reuses these as its verifiers, so every constraint it can express is checked by exactly this code.
/// </summary>
public interface IInstructionChecker
{
    /// <summary>The IFEval instruction id, e.g. <c>keywords:existence</c>.</summary>
    string Id { get; }

    /// <summary>Strict check of <paramref name="response"/> with the instruction's kwargs (absent/null kwargs = unset).</summary>
    bool IsFollowed(string response, JsonObject kwargs);
}
