using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;
using SparOrleans.World.Teaching;

namespace SparOrleans.World.Composition;

/// <summary>
/// Composes prompts as the paper's Figure 7 asks a strong LLM to: a seed task, a main constraint drawn from the
/// taxonomy (family first, so families stay balanced), then other constraints up to the level, never a conflicting
/// or unreasonable pair; a prompt the teacher cannot answer correctly is dropped. Everything follows from the seed.
/// </summary>
public sealed class PromptComposer(ComposerOptions? options = null)
{
    private readonly ComposerOptions _options = (options ?? new ComposerOptions()).Validated();

    /// <summary>The levels a task type can have: letter copies only 1, the start/end story at least 2.</summary>
    public static bool SupportsLevel(TaskType type, int level) => type switch
    {
        TaskType.LetterCopies => level == 1,
        TaskType.StartEndStory => level is >= 2 and <= 5,
        _ => level is >= 1 and <= 5,
    };

    /// <summary>One prompt of <paramref name="split"/>, determined by <paramref name="seed"/> (and the options).</summary>
    /// <param name="level">1–5, or null to draw it from <see cref="ComposerOptions.LevelWeights"/>.</param>
    /// <param name="taskType">A fixed task type, or null to draw it from <see cref="ComposerOptions.TaskWeights"/>.</param>
    public WorldPrompt Compose(int seed, WorldSplit split, int? level = null, TaskType? taskType = null)
    {
        if (level is < 1 or > 5)
        {
            throw new UserInputException($"level must be between 1 and 5 (got {level})");
        }
        if (taskType is { } fixedType && level is { } fixedLevel && !SupportsLevel(fixedType, fixedLevel))
        {
            throw new UserInputException($"task {SeedTask.TypeNameOf(fixedType)} cannot have level {fixedLevel}");
        }
        var rng = new Random(seed);
        for (var attempt = 0; attempt < _options.MaxAttempts; attempt++)
        {
            var lvl = level ?? DrawLevel(rng, taskType);
            var type = taskType ?? DrawTask(rng, lvl);
            if (type is null)
            {
                continue;
            }
            var task = SeedTaskGenerator.Generate(type.Value, rng);
            var constraints = DrawConstraints(task, lvl, rng);
            if (constraints is null)
            {
                continue;
            }
            var prompt = Render(task, constraints, split, seed);
            if (WorldPrompt.SplitOf(prompt.CanonicalKey) != split || Teacher.TryAnswer(prompt, 0) is null)
            {
                continue;
            }
            return prompt;
        }
        throw new UserInputException($"no {split} prompt found in {_options.MaxAttempts} attempts (seed {seed}, level {level}); the task and level weights leave too few candidates");
    }

    /// <summary><paramref name="count"/> prompts with distinct texts; prompt i comes from a seed derived from (seed, i).</summary>
    public IReadOnlyList<WorldPrompt> Sample(int count, int seed, WorldSplit split, int? level = null, TaskType? taskType = null)
    {
        if (count < 0)
        {
            throw new UserInputException($"count must be at least 0 (got {count})");
        }
        var result = new List<WorldPrompt>(count);
        var texts = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; result.Count < count; i++)
        {
            if (i > count * 20 + 1000)
            {
                throw new UserInputException($"only {result.Count} distinct {split} prompts exist for these settings ({count} asked)");
            }
            var prompt = Compose(WorldSeed.Mix(seed, i), split, level, taskType);
            if (texts.Add(prompt.Text))
            {
                result.Add(prompt);
            }
        }
        return result;
    }

    private int DrawLevel(Random rng, TaskType? taskType)
    {
        var weights = _options.Levels.Select((w, i) => taskType is { } t && !SupportsLevel(t, i + 1) ? 0 : w).ToList();
        if (weights.Sum() <= 0)
        {
            throw new UserInputException($"no level with a positive weight suits task {SeedTask.TypeNameOf(taskType!.Value)}");
        }
        return Weighted(rng, weights) + 1;
    }

    private TaskType? DrawTask(Random rng, int level)
    {
        var types = _options.Tasks.Where(kv => kv.Value > 0 && SupportsLevel(kv.Key, level)).OrderBy(kv => kv.Key).ToList();
        return types.Count == 0 ? null : types[Weighted(rng, types.Select(kv => kv.Value).ToList())].Key;
    }

    private static List<Constraint>? DrawConstraints(SeedTask task, int level, Random rng)
    {
        var chosen = new List<Constraint>();
        switch (task.Type)
        {
            case TaskType.LetterCopies:
                return [new LetterCopiesConstraint(task.Letter, task.Count)];
            case TaskType.StartEndStory:
                // The paper's flawed story lacks S1 or S2: both are the task's own constraints.
                chosen.Add(RequiredSentenceConstraint.ForStory(task.LastSentence, atStart: false));
                chosen.Add(RequiredSentenceConstraint.ForStory(task.FirstSentence, atStart: true));
                break;
            default:
                var families = Enum.GetValues<ConstraintFamily>()
                    .Where(f => Taxonomy.Entries.Any(e => e.Kind.Family == f && e.AppliesTo(task.Type))).ToList();
                var family = rng.Pick(families);
                var main = rng.Pick(Taxonomy.Entries.Where(e => e.Kind.Family == family && e.AppliesTo(task.Type)).ToList());
                chosen.Add(main.Create(task, rng));
                break;
        }
        while (chosen.Count < level)
        {
            var options = Taxonomy.Entries
                .Where(e => e.AppliesTo(task.Type) && chosen.All(c => !Taxonomy.Conflict(c.Kind.Name, e.Kind.Name)))
                .ToList();
            if (options.Count == 0)
            {
                return null;
            }
            chosen.Add(rng.Pick(options).Create(task, rng));
        }
        return Taxonomy.Compatible(chosen) ? chosen : null;
    }

    private static WorldPrompt Render(SeedTask task, List<Constraint> constraints, WorldSplit split, int seed)
    {
        var phrases = constraints.Select(c => c.Phrase).Where(p => p.Length > 0);
        var text = string.Join(" ", new[] { task.Prompt }.Concat(phrases));
        return new WorldPrompt(text, task, constraints, split, seed);
    }

    private static int Weighted(Random rng, IReadOnlyList<double> weights)
    {
        var x = rng.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Count; i++)
        {
            x -= weights[i];
            if (x < 0 && weights[i] > 0)
            {
                return i;
            }
        }
        return weights.Select((w, i) => (w, i)).Last(p => p.w > 0).i;
    }
}
