using System.Text.Json.Nodes;

namespace SparOrleans.Verifiers.IfEval.Scoring;

/// <summary>One IFEval prompt: its key, text, instruction ids and one kwargs object per id (empty when none).</summary>
public sealed record IfEvalExample(string Key, string Prompt, IReadOnlyList<string> InstructionIds, IReadOnlyList<JsonObject> Kwargs);

/// <summary>How one response fared: per-instruction verdicts, strict and loose.</summary>
public sealed record IfEvalPromptResult(
    IfEvalExample Example,
    string Response,
    IReadOnlyList<bool> FollowInstructionListStrict,
    IReadOnlyList<bool> FollowInstructionListLoose)
{
    /// <summary>True when every instruction passes under the strict rule.</summary>
    public bool FollowAllStrict => FollowInstructionListStrict.All(x => x);

    /// <summary>True when every instruction passes under the loose rule.</summary>
    public bool FollowAllLoose => FollowInstructionListLoose.All(x => x);
}

/// <summary>Accuracy of one instruction type over a run: fractions in [0, 1].</summary>
public sealed record IfEvalTypeAccuracy(string InstructionId, int Count, int StrictFollowed, int LooseFollowed)
{
    /// <summary>Strictly followed share, 0 when <see cref="Count"/> is 0.</summary>
    public double Strict => Count == 0 ? 0 : (double)StrictFollowed / Count;

    /// <summary>Loosely followed share, 0 when <see cref="Count"/> is 0.</summary>
    public double Loose => Count == 0 ? 0 : (double)LooseFollowed / Count;
}

/// <summary>The four IFEval accuracies, as fractions in [0, 1].</summary>
public sealed record IfEvalAccuracies(double PromptStrict, double InstructionStrict, double PromptLoose, double InstructionLoose);

/// <summary>A scored run: per-prompt results (input order), the four accuracies and a per-instruction-type table
/// sorted by id.</summary>
public sealed record IfEvalReport(
    IReadOnlyList<IfEvalPromptResult> Prompts,
    IfEvalAccuracies Accuracies,
    IReadOnlyList<IfEvalTypeAccuracy> PerInstruction)
{
    /// <summary>Instructions over all prompts (834 for the official input file).</summary>
    public int InstructionCount => Prompts.Sum(p => p.Example.InstructionIds.Count);
}
