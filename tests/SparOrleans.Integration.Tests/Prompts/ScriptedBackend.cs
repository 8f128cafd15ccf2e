using SparOrleans.Models.Generation;
using SparOrleans.Core.Formats;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Integration.Tests.Prompts;

/// <summary>
/// A deterministic stand-in for the models, speaking the compact format: every text is a pure function of the
/// call's prompt and seed, like a seeded model. Responses look like <c>answer-2</c> or <c>answer-2-good</c>; the
/// judge says yes to "-good" answers but errs on 20% of samples; a refinement increments the answer and becomes
/// good half the time, and 10% of refinements lose their markers (failed generations).
/// </summary>
public sealed class ScriptedBackend : IGenerationBackend
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;
    private int _calls;

    public int Calls => _calls;

    public Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _calls, calls.Count);
        return Task.FromResult<IReadOnlyList<Generated>>(calls.Select(c => new Generated(Answer(c), 1, "", AnsweringVersion(model))).ToList());
    }

    /// <summary>A backend bug on demand: the version <see cref="AnswersAsAnother"/> is answered as "another-version".</summary>
    public const string AnswersAsAnother = "answers-as-another";

    private static string AnsweringVersion(ModelRef model) => model.Version == AnswersAsAnother ? "another-version" : model.Version;

    public static string Answer(GenerationCall call)
    {
        var content = call.Prompt[^1].Content;
        var parts = content.Split('|');
        var roll = (int)((ulong)call.Seed * 2654435761UL % 100);
        switch (parts[0])
        {
            case "A":
                return roll < 30 ? "answer-0-good" : "answer-0";
            case "J":
                var response = parts[^1];
                var follows = response.EndsWith("-good", StringComparison.Ordinal) ^ (roll < 20);
                return Format.RenderJudgment(new JudgmentContent([new ConstraintCheck("good", response, follows)], follows));
            case "R":
                var parent = parts[2];
                var n = int.Parse(parent.Split('-')[1]) + 1;
                var refined = roll < 50 ? $"answer-{n}-good" : $"answer-{n}";
                return roll >= 90 ? "I would rewrite it." : Format.RenderRefinement("make it good", refined);
            default:
                throw new InvalidOperationException($"Unexpected prompt: {content}");
        }
    }
}
