using System.Text.Json.Nodes;

namespace SparOrleans.Verifiers.IfEval.Checkers;

/// <summary>An IFEval check defined by a pure function; stateless, so one instance serves every thread.</summary>
internal sealed class InstructionChecker(string id, IReadOnlyList<string> kwargNames, Func<string, JsonObject, bool> check)
    : IInstructionChecker
{
    public string Id { get; } = id;

    /// <summary>The kwargs this check reads, named exactly as in IFEval's input data.</summary>
    public IReadOnlyList<string> KwargNames { get; } = kwargNames;

    public bool IsFollowed(string response, JsonObject kwargs) => check(response, kwargs);
}
