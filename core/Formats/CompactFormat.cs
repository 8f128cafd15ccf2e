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

    /// <summary>
    /// What an evidence-first judgment says (the inverse of <see cref="RenderJudgment"/>), so that another format can
    /// write it out; null when its verdict is invalid. A line without a <c>constraint: evidence ok|NO</c> shape
    /// names no checkable constraint (a model's garbled line) and is left out.
    /// </summary>
    public JudgmentContent? ReadJudgment(string judgmentText)
    {
        var verdict = ParseVerdict(judgmentText);
        if (verdict == Verdict.Invalid)
        {
            return null;
        }
        var checks = new List<ConstraintCheck>();
        foreach (var line in judgmentText.Split('\n').Select(l => l.TrimEnd()))
        {
            if (line.TrimStart().StartsWith(VerdictAnchor, StringComparison.Ordinal))
            {
                break;
            }
            var satisfied = line.EndsWith(Held, StringComparison.Ordinal);
            if (!satisfied && !line.EndsWith(Failed, StringComparison.Ordinal))
            {
                continue;
            }
            var body = line[..^(satisfied ? Held : Failed).Length];
            var colon = body.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                // An empty evidence leaves "c:" (or "c: "); either way the check is c with no evidence.
                var evidence = body[(colon + 1)..];
                checks.Add(new ConstraintCheck(body[..colon], evidence.StartsWith(' ') ? evidence[1..] : evidence, satisfied));
            }
        }
        return new JudgmentContent(checks, verdict == Verdict.Yes);
    }

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

    /// <summary>The reflection line and the refined response of a refiner output; null when a marker is missing.</summary>
    public static (string Reflection, string Refined)? ReadRefinement(string refinerOutput) =>
        RefinementMarkers.Extract(refinerOutput) is { } refined
            ? (refinerOutput[..refinerOutput.IndexOf(RefinementMarkers.Start, StringComparison.Ordinal)].Trim(), refined)
            : null;
}
