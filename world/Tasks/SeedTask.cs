namespace SparOrleans.World.Tasks;

/// <summary>The kinds of seed task. The last two are the paper's synthetic tasks (§3.5, Figure 4).</summary>
public enum TaskType
{
    Story,
    List,
    Description,
    Letter,
    Dialogue,

    /// <summary>"Write a story that starts with S1 and ends with S2."</summary>
    StartEndStory,

    /// <summary>"Write N copies of the letter x." (case is free: the interfering factor).</summary>
    LetterCopies,
}

/// <summary>
/// A seed task: its prompt and the entities it is about, from which the teacher writes content.
/// Fields not used by a task type are empty.
/// </summary>
public sealed record SeedTask(
    TaskType Type,
    string Prompt,
    string Animal,
    string Place,
    string Object,
    string Title,
    IReadOnlyList<string> Items,
    string Name = "",
    string Sender = "",
    string Animal2 = "",
    string FirstSentence = "",
    string LastSentence = "",
    char Letter = 'a',
    int Count = 0)
{
    /// <summary>Short lowercase name for reports (<c>story</c>, <c>start_end_story</c>, ...).</summary>
    public string TypeName => TypeNameOf(Type);

    public static string TypeNameOf(TaskType type) => type switch
    {
        TaskType.StartEndStory => "start_end_story",
        TaskType.LetterCopies => "letter_copies",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>True for the paper's two synthetic tasks, whose constraints are part of the task itself.</summary>
    public bool IsSynthetic => Type is TaskType.StartEndStory or TaskType.LetterCopies;
}

/// <summary>What the constraints ask of the content before any fixing: a sentence count, bullets, placeholders.</summary>
public sealed record ContentPlan(int? Sentences = null, bool Bullets = false, bool Placeholders = false);
