using System.Text;

namespace SparOrleans.Core.Formats;

/// <summary>
/// Short sequences for the simulator's tiny byte-level models (see shared/notes/simulator-feasibility.md).
/// Actor <c>A|prompt</c>; judge <c>J|prompt|response</c> → one evidence line per constraint
/// (<c>end: river vs forest NO</c>, <c>commas: 0 ok</c>) then <c>=&gt; yes</c> / <c>=&gt; no</c>, evidence first
/// because that is what lets a small model judge above chance; refine, in a single user turn,
/// <c>R|prompt|response|no: end, commas</c> (a short, pointed judgment: the failed constraints only, which the probe
/// found better for refining than the full evidence) → a very short reflection line, then
/// <c>[[start]]...[[end]]</c>.
/// </summary>
public sealed class CompactFormat(bool wholeWordVerdicts = true) : IRoleFormat
{
    public const string VerdictAnchor = "=>";
    private const string Failed = " NO";
    private const string Held = " ok";

    private readonly VerdictRule _rule = new(VerdictAnchor, "yes", "no", wholeWordVerdicts);

    public string Name => "compact";

    public IReadOnlyList<ChatMessage> ActorPrompt(string instruction) => [new(ChatMessage.User, $"A|{instruction}")];

    public IReadOnlyList<ChatMessage> JudgePrompt(string instruction, string response) =>
        [new(ChatMessage.User, $"J|{instruction}|{response}")];

    public string RenderJudgment(JudgmentContent judgment)
    {
        var text = new StringBuilder();
        foreach (var check in judgment.Checks)
        {
            text.Append(check.Constraint).Append(": ").Append(check.Evidence).Append(check.Satisfied ? Held : Failed).Append('\n');
        }
        return text.Append(VerdictAnchor).Append(judgment.Follows ? " yes" : " no").ToString();
    }

    public Verdict ParseVerdict(string judgmentText) => _rule.Parse(judgmentText);

    public IReadOnlyList<ChatMessage> RefinePrompt(string instruction, string response, string judgmentText) =>
        [new(ChatMessage.User, $"R|{instruction}|{response}|{PointedJudgment(judgmentText)}")];

    /// <summary>The failed constraints of an evidence-first judgment, e.g. <c>no: end, commas</c>; <c>no</c> when none is named.</summary>
    public static string PointedJudgment(string judgmentText)
    {
        var failed = judgmentText.Split('\n')
            .Select(line => line.TrimEnd())
            .Where(line => line.EndsWith(Failed, StringComparison.Ordinal) && line.Contains(':', StringComparison.Ordinal))
            .Select(line => line[..line.IndexOf(':', StringComparison.Ordinal)].Trim())
            .ToList();
        return failed.Count == 0 ? "no" : $"no: {string.Join(", ", failed)}";
    }

    public string RenderRefinement(string reflection, string refinedResponse) =>
        $"{reflection}\n{RefinementMarkers.Start}{refinedResponse}{RefinementMarkers.End}";

    public string? ParseRefinement(string refinerOutput) => RefinementMarkers.Extract(refinerOutput);
}
