using System.Text;

namespace SparOrleans.World.Tasks;

/// <summary>Seeded generator of seed tasks and of the teacher's base content for them.</summary>
public static class SeedTaskGenerator
{
    private static readonly string[] StoryTemplates =
    [
        "Write a short story about {a-adj} {animal} who finds {object} in the {place}.",
        "Tell a brief story of {a-animal} that loses {object} near the {place}.",
        "Write a tiny tale about {a-animal} on a trip to the {place}.",
    ];

    private static readonly string[] ListTemplates =
    [
        "List {n} things {a-animal} could carry to the {place}.",
        "Name {n} items you might find in the {place}.",
        "Give {n} things {a-animal} would pack for a trip to the {place}.",
    ];

    private static readonly string[] DescriptionTemplates =
    [
        "Describe the {place} {time}.",
        "Write a short description of the {place} where {a-animal} lives.",
        "Describe what {a-animal} sees in the {place} {time}.",
    ];

    private static readonly string[] LetterTemplates =
    [
        "Write a short letter to {name} about {object} you found in the {place}.",
        "Write a note to your friend {name} inviting them to the {place}.",
    ];

    private static readonly string[] DialogueTemplates =
    [
        "Write a short dialogue between {a-animal} and {a-animal2} about {object}.",
        "Write a brief conversation in which {a-animal} asks {a-animal2} the way to the {place}.",
    ];

    /// <summary>A task of the given type, fully determined by <paramref name="rng"/>'s state.</summary>
    public static SeedTask Generate(TaskType type, Random rng)
    {
        var animal = rng.Pick(Lexicon.Animals);
        var animal2 = rng.PickDistinct(Lexicon.Animals, 1, [animal])[0];
        var place = rng.Pick(Lexicon.Places);
        var items = rng.PickDistinct(Lexicon.Objects, 4);
        var obj = items[0];
        var names = rng.PickDistinct(Lexicon.Names, 2);
        var adj = rng.Pick(Lexicon.Adjectives);
        var time = rng.Pick(Lexicon.Times);
        string Fill(string template, int n = 0) => template
            .Replace("{a-adj}", Lexicon.WithArticle(adj)).Replace("{adj}", adj).Replace("{a-animal2}", Lexicon.WithArticle(animal2)).Replace("{a-animal}", Lexicon.WithArticle(animal)).Replace("{animal2}", animal2).Replace("{animal}", animal).Replace("{place}", place)
            .Replace("{object}", Lexicon.WithArticle(obj)).Replace("{name}", names[0]).Replace("{time}", time)
            .Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var title = $"The {Lexicon.Capitalize(animal)} and the {Lexicon.Capitalize(obj)}";
        switch (type)
        {
            case TaskType.Story:
                return new SeedTask(type, Fill(rng.Pick(StoryTemplates)), animal, place, obj, title, items);
            case TaskType.List:
                var n = rng.Next(2, 5);
                return new SeedTask(type, Fill(rng.Pick(ListTemplates), n), animal, place, obj,
                    $"Things for the {Lexicon.Capitalize(place)}", items.Take(n).ToList());
            case TaskType.Description:
                return new SeedTask(type, Fill(rng.Pick(DescriptionTemplates)), animal, place, obj,
                    $"The {Lexicon.Capitalize(place)}", items) { Name = time };
            case TaskType.Letter:
                return new SeedTask(type, Fill(rng.Pick(LetterTemplates)), animal, place, obj,
                    $"A Letter to {names[0]}", items, names[0], names[1]);
            case TaskType.Dialogue:
                return new SeedTask(type, Fill(rng.Pick(DialogueTemplates)), animal, place, obj,
                    $"The {Lexicon.Capitalize(animal)} and the {Lexicon.Capitalize(animal2)}", items, Animal2: animal2);
            case TaskType.StartEndStory:
                var first = $"The {animal} woke up in the {place}.";
                var last = rng.Next(2) == 0 ? $"In the end the {animal} was home." : $"That night the {animal} slept well.";
                return new SeedTask(type, $"Write a short story that starts with \"{first}\" and ends with \"{last}\"",
                    animal, place, obj, title, items, FirstSentence: first, LastSentence: last);
            case TaskType.LetterCopies:
                var letter = (char)('a' + rng.Next(26));
                var count = rng.Next(3, 13);
                return new SeedTask(type, $"Write {count} copies of the letter {letter}.", animal, place, obj, "", [],
                    Letter: letter, Count: count);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unknown task type");
        }
    }

    /// <summary>
    /// The teacher's first draft for the task, before constraints are enforced: 60–200 characters of plain content
    /// shaped by <paramref name="plan"/>. Different <paramref name="rng"/> states give independent drafts.
    /// </summary>
    public static string Draft(SeedTask task, ContentPlan plan, Random rng)
    {
        var animal = task.Animal;
        var verb = rng.Pick(Lexicon.Verbs);
        var adj = rng.Pick(Lexicon.Adjectives);
        var other = rng.Pick(task.Items.Count > 1 ? task.Items : Lexicon.Objects);
        switch (task.Type)
        {
            case TaskType.Story:
                return Sentences(plan.Sentences ?? rng.Next(2, 4), rng,
                    rng.Next(2) == 0 ? $"One day {Lexicon.WithArticle(adj + " " + animal)} {verb} to the {task.Place}." : $"At dawn, {Lexicon.WithArticle(adj + " " + animal)} {verb} to the {task.Place}.",
                    $"It found {Lexicon.WithArticle(task.Object)} near {Lexicon.WithArticle(other)}.",
                    rng.Next(2) == 0 ? $"The {animal} took the {task.Object} home." : $"Later, the {animal} {rng.Pick(Lexicon.Verbs)} back home.",
                    $"The sky over the {task.Place} was {rng.Pick(Lexicon.Adjectives)} and grey.",
                    $"{Lexicon.Capitalize(Lexicon.WithArticle(rng.Pick(Lexicon.Animals)))} watched from far away.");
            case TaskType.Description:
                var time = string.IsNullOrEmpty(task.Name) ? rng.Pick(Lexicon.Times) : task.Name;
                return Sentences(plan.Sentences ?? rng.Next(2, 4), rng,
                    $"The {task.Place} is {adj} {time}.",
                    rng.Next(2) == 0 ? $"{Lexicon.Capitalize(Lexicon.WithArticle(animal))} rests by {Lexicon.WithArticle(other)}, and the air is cool." : $"{Lexicon.Capitalize(Lexicon.WithArticle(animal))} rests by {Lexicon.WithArticle(other)} in the shade.",
                    $"You can hear the wind and see {Lexicon.WithArticle(task.Object)}.",
                    $"The paths are {rng.Pick(Lexicon.Adjectives)} and soft.",
                    $"Birds sing near the {rng.Pick(Lexicon.Places)}.");
            case TaskType.List:
                if (plan.Bullets)
                {
                    return string.Join("\n", task.Items.Select(i => $"- {Lexicon.WithArticle(ItemPhrase(i, rng))}"));
                }
                var phrases = task.Items.Select(i => Lexicon.WithArticle(ItemPhrase(i, rng))).ToList();
                var joined = phrases.Count == 1 ? phrases[0] : string.Join(", ", phrases.Take(phrases.Count - 1)) + " and " + phrases[^1];
                return rng.Next(2) == 0 ? $"You could take {joined}." : $"A good choice is {joined}.";
            case TaskType.Letter:
                var greeting = plan.Placeholders ? "Dear [name]," : $"Dear {task.Name},";
                var body = rng.Next(2) == 0
                    ? $"I found {Lexicon.WithArticle(adj + " " + task.Object)} in the {task.Place}. I will show it to you soon."
                    : $"Please come to the {task.Place} with me. We can look for {Lexicon.WithArticle(task.Object)} there.";
                return $"{greeting}\n{body}\nFrom {task.Sender}.";
            case TaskType.Dialogue:
                var a = Lexicon.Capitalize(animal);
                var b = Lexicon.Capitalize(task.Animal2);
                return rng.Next(2) == 0
                    ? $"{a}: Have you seen {Lexicon.WithArticle(task.Object)}?\n{b}: Yes, it is by the {task.Place}.\n{a}: Thank you so much."
                    : $"{a}: Where is the {task.Place}?\n{b}: Go past the {adj} {other}.\n{a}: I will go now.";
            case TaskType.StartEndStory:
                var middle = rng.Next(2) == 0
                    ? $"It {verb} past {Lexicon.WithArticle(other)} and met {Lexicon.WithArticle(rng.Pick(Lexicon.Animals))}."
                    : $"It looked for {Lexicon.WithArticle(task.Object)} all day.";
                return $"{task.FirstSentence} {middle} {task.LastSentence}";
            case TaskType.LetterCopies:
                return LetterRun(task.Letter, task.Count, upper: false);
            default:
                throw new ArgumentOutOfRangeException(nameof(task), task.Type, "unknown task type");
        }
    }

    /// <summary>The letter repeated <paramref name="count"/> times, space separated.</summary>
    public static string LetterRun(char letter, int count, bool upper)
    {
        var c = upper ? char.ToUpperInvariant(letter) : char.ToLowerInvariant(letter);
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string ItemPhrase(string item, Random rng) =>
        rng.Next(3) == 0 ? $"{rng.Pick(Lexicon.Adjectives)} {item}" : item;

    private static string Sentences(int count, Random rng, params string[] pool)
    {
        // The first sentence always opens; the rest keep their order so the text reads as a story.
        var chosen = new List<string> { pool[0] };
        var rest = Enumerable.Range(1, pool.Length - 1).OrderBy(_ => rng.Next()).Take(Math.Max(0, count - 1)).Order();
        chosen.AddRange(rest.Select(i => pool[i]));
        return string.Join(" ", chosen);
    }
}
