namespace SparOrleans.World;

/// <summary>
/// The small synthetic English of the world. Words that serve as keywords are chosen so that none is a substring
/// of another word the world writes (IFEval counts keywords by case-insensitive substring search).
/// </summary>
public static class Lexicon
{
    public static readonly IReadOnlyList<string> Animals =
        ["fox", "owl", "bear", "rabbit", "duck", "frog", "wolf", "deer", "mouse", "goat", "horse", "otter", "badger", "swan"];

    public static readonly IReadOnlyList<string> Objects =
        ["lamp", "key", "stone", "feather", "map", "shell", "coin", "basket", "kite", "drum", "bell", "apple", "rope", "boat"];

    public static readonly IReadOnlyList<string> Places =
        ["forest", "river", "lake", "hill", "meadow", "garden", "village", "cave", "beach", "valley", "farm", "castle", "island"];

    public static readonly IReadOnlyList<string> Names = ["Sam", "Lia", "Leo", "Mia", "Ned", "Eva", "Kit", "Zoe", "Max", "Ivy"];

    /// <summary>Neutral adjectives the content uses; they double as the forbidden-word candidates.</summary>
    public static readonly IReadOnlyList<string> Adjectives = ["small", "old", "little", "quiet", "red", "big", "tall", "green"];

    /// <summary>What a forbidden adjective becomes when the teacher removes it (none of these is itself a candidate).</summary>
    public static readonly IReadOnlyDictionary<string, string> Synonyms = new Dictionary<string, string>
    {
        ["small"] = "tiny", ["old"] = "aged", ["little"] = "wee", ["quiet"] = "calm",
        ["red"] = "crimson", ["big"] = "large", ["tall"] = "high", ["green"] = "leafy",
    };

    public static readonly IReadOnlyList<string> Positive = ["happy", "glad", "kind", "joyful", "cheerful", "lovely"];

    public static readonly IReadOnlyList<string> Negative = ["sad", "gloomy", "lonely", "angry", "afraid", "grim"];

    public static readonly IReadOnlyList<string> Verbs = ["walked", "ran", "hopped", "wandered", "climbed", "rushed", "raced"];

    public static readonly IReadOnlyList<string> Times = ["in spring", "at night", "in winter", "at dawn", "after the rain"];

    /// <summary>Sentences a response may open with; a start-sentence constraint picks one of them.</summary>
    public static readonly IReadOnlyList<string> Openings =
        ["Here is my answer.", "Listen to this.", "This is a short one.", "Let me tell you.", "Here it is."];

    /// <summary>Sentences a response may close with (no commas, so they combine with the no-comma constraint).</summary>
    public static readonly IReadOnlyList<string> Closings =
        ["See you soon.", "That is all.", "The end.", "Any other questions?", "What a day!", "Thank you for reading."];

    /// <summary>Short grammatical words the teacher never highlights or capitalizes for emphasis.</summary>
    public static readonly IReadOnlySet<string> FunctionWords = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "the", "and", "with", "near", "for", "was", "you", "from", "are", "she", "her", "his", "its", "can", "will", "this",
        "that", "there", "into", "past", "went", "had",
    };

    /// <summary>The postscripts the teacher writes.</summary>
    public static readonly IReadOnlyList<string> Postscripts =
        ["P.S. I will write again soon.", "P.S. Say hello to the others.", "P.S. Keep this note safe.", "P.S. More news next week."];

    public static string Capitalize(string word) =>
        word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..];

    /// <summary>"a" or "an" for a noun, by its first letter.</summary>
    public static string Article(string noun) => noun.Length > 0 && "aeiou".Contains(char.ToLowerInvariant(noun[0])) ? "an" : "a";

    public static string WithArticle(string noun) => $"{Article(noun)} {noun}";

    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    /// <summary>Distinct items in random order (at most <paramref name="count"/>).</summary>
    public static List<T> PickDistinct<T>(this Random rng, IReadOnlyList<T> items, int count, IEnumerable<T>? exclude = null)
    {
        var excluded = exclude is null ? [] : new HashSet<T>(exclude);
        var pool = items.Where(i => !excluded.Contains(i)).ToList();
        for (var i = pool.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool.Take(count).ToList();
    }
}
