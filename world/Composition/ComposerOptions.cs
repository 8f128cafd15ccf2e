using SparOrleans.Core.Options;
using SparOrleans.World.Tasks;

namespace SparOrleans.World.Composition;

/// <summary>
/// How the prompt composer draws prompts.
/// </summary>
/// <param name="LevelWeights">Relative weights of levels 1–5 (number of constraints) when no level is asked for;
/// default uniform. Five non-negative values, at least one positive.</param>
/// <param name="TaskWeights">Relative weights of the task types; default favours the five generative tasks, keeps
/// the start/end story at a small share and leaves letter copies out (they need a <c>sim:</c> check of their own and
/// serve the Figure 4 experiment, which asks for them by type). Missing types weigh 0.</param>
/// <param name="MaxAttempts">Draws per prompt before giving up (1–100000, default 4000; a held-out draw keeps
/// about 1 in 16 candidates).</param>
public sealed record ComposerOptions(
    IReadOnlyList<double>? LevelWeights = null,
    IReadOnlyDictionary<TaskType, double>? TaskWeights = null,
    int MaxAttempts = 4000) : IValidatedOptions
{
    public static readonly IReadOnlyList<double> UniformLevels = [1, 1, 1, 1, 1];

    public static readonly IReadOnlyDictionary<TaskType, double> DefaultTaskWeights = new Dictionary<TaskType, double>
    {
        [TaskType.Story] = 3, [TaskType.List] = 2, [TaskType.Description] = 2, [TaskType.Letter] = 2,
        [TaskType.Dialogue] = 2, [TaskType.StartEndStory] = 1, [TaskType.LetterCopies] = 0,
    };

    public IReadOnlyList<double> Levels => LevelWeights ?? UniformLevels;

    public IReadOnlyDictionary<TaskType, double> Tasks => TaskWeights ?? DefaultTaskWeights;

    public IEnumerable<string> Problems() => new ProblemList()
        .Require(Levels.Count == 5, $"LevelWeights must have 5 values, for levels 1 to 5 (got {Levels.Count})")
        .Require(Levels.All(w => w >= 0) && Levels.Any(w => w > 0), "LevelWeights must be non-negative with at least one positive")
        .Require(Tasks.Values.All(w => w >= 0) && Tasks.Values.Any(w => w > 0), "TaskWeights must be non-negative with at least one positive")
        .InRange(nameof(MaxAttempts), MaxAttempts, 1, 100_000);
}
