using System.Text;

namespace SparOrleans.Core.Formats;

/// <summary>
/// The paper's Figure 8 templates, as the reference scripts write them: curly quotes (U+201C/U+201D) around the
/// prompt and output, the original spelling "weather", refinement as a three-turn conversation (judge prompt, the
/// parent's judgment, refinement request). For real checkpoints; verdicts are read after "Final Judgement".
/// </summary>
public sealed class PaperFormat(bool wholeWordVerdicts = true) : IRoleFormat
{
    public const string JudgementAnchor = "Final Judgement";

    public const string JudgeTemplate =
        "Please act an expert in evaluating the capabilities of instruction-following. In the instruction-following task, the Output needs to honestly/precisely/closely follow the given Prompt.\n" +
        "Your task is to carefully judge whether the Output to honestly/precisely/closely follows the given Prompt. If there are any constraints in the Prompt that are not satisfied by the Output, please list all the constraints that are not satisfied.\n" +
        "\n" +
        "Prompt: \u201C{0}\u201D\n" +
        "\n" +
        "Output: \u201C{1}\u201D\n" +
        "\n" +
        "Please carefully judge if each constraint is perfectly satisfied and give a final judgement weather the Output accurately follows the Prompt in the following format:\n" +
        "Step-by-step verification: xxx\n" +
        "Final Judgement (if the Output accurately follows the Prompt): (Yes or No)";

    /// <summary>The refinement request of Figure 8 (the reference's stray indentation normalised away).</summary>
    public const string RefineRequest =
        "Based on your judgement, refine the Output to make sure it can honestly/precisely/closely follows the given Prompt.\n" +
        "\n" +
        "Please carefully refine the Output to meet all the constraints in the Prompt.\n" +
        "\n" +
        "Please format like this:\n" +
        "Reflection on how to refine the Output: xxx\n" +
        "Final Refined Output: [[start]] xxx [[end]]";

    private readonly VerdictRule _rule = new(JudgementAnchor, "Yes", "No", wholeWordVerdicts);

    public string Name => "paper";

    public IReadOnlyList<ChatMessage> ActorPrompt(string instruction) => [new(ChatMessage.User, instruction)];

    public IReadOnlyList<ChatMessage> JudgePrompt(string instruction, string response) =>
        [new(ChatMessage.User, string.Format(System.Globalization.CultureInfo.InvariantCulture, JudgeTemplate, instruction, response))];

    public string RenderJudgment(JudgmentContent judgment)
    {
        var text = new StringBuilder("Step-by-step verification:");
        for (var i = 0; i < judgment.Checks.Count; i++)
        {
            var check = judgment.Checks[i];
            text.Append('\n').Append(i + 1).Append(". ").Append(check.Constraint).Append(": ").Append(check.Evidence)
                .Append(check.Satisfied ? " (satisfied)" : " (not satisfied)");
        }
        if (judgment.Checks.Count == 0)
        {
            text.Append(judgment.Follows ? " every constraint is satisfied." : " the Output does not follow the Prompt.");
        }
        text.Append("\nFinal Judgement (if the Output accurately follows the Prompt): ").Append(judgment.Follows ? "Yes" : "No");
        return text.ToString();
    }

    public Verdict ParseVerdict(string judgmentText) => _rule.Parse(judgmentText);

    public IReadOnlyList<ChatMessage> RefinePrompt(string instruction, string response, string judgmentText) =>
    [
        .. JudgePrompt(instruction, response),
        new(ChatMessage.Assistant, judgmentText),
        new(ChatMessage.User, RefineRequest),
    ];

    public string RenderRefinement(string reflection, string refinedResponse) =>
        $"Reflection on how to refine the Output: {reflection}\nFinal Refined Output: {RefinementMarkers.Start} {refinedResponse} {RefinementMarkers.End}";

    public string? ParseRefinement(string refinerOutput) => RefinementMarkers.Extract(refinerOutput);
}
