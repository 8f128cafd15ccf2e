using SparOrleans.Core.Datasets;

namespace SparOrleans.Core.Simulation;

/// <summary>
/// A synthetic task of the paper's Figure 4: items with a verifiable instruction, a negative answer, and two ways
/// to pair it with a correct answer, the refinement pair (only the key difference changed) and the interfering pair
/// (the key difference plus a factor the instruction does not ask about).
/// </summary>
public interface IPairKindsTask<TItem>
{
    /// <summary>Short name, used in file names (<c>letters</c>, <c>story</c>).</summary>
    string Name { get; }

    /// <summary>Every item in a seeded order; an experiment holds the first ones out of training.</summary>
    IReadOnlyList<TItem> Items(int seed);

    string Instruction(TItem item);

    /// <summary>A correct answer of the kind the start model is fine-tuned on.</summary>
    string Answer(TItem item, Random random);

    /// <summary>A failing answer of the start model's kind.</summary>
    string Negative(TItem item, Random random);

    DpoPair RefinementPair(TItem item, string negative);

    DpoPair InterferingPair(TItem item, string negative, Random random);

    bool Follows(TItem item, string response);

    /// <summary>What <see cref="Factor"/> measures (e.g. "uppercase share"), or null when the task has no such measure.</summary>
    string? FactorName { get; }

    /// <summary>How far an answer shows the interfering factor, 0–1.</summary>
    double Factor(TItem item, string response);

    /// <summary>New-token cap of a greedy answer.</summary>
    int MaxNewTokens { get; }

    /// <summary>SFT steps (of 32 examples) after which a tiny start model does the task imperfectly: room both ways.</summary>
    int StartSftSteps { get; }

    /// <summary>DPO learning rate at which both pair kinds move the start within the experiment's steps without wrecking it.</summary>
    double DpoLearningRate { get; }
}

/// <summary><see cref="LetterTask"/> as a Figure 4 task: counts 1–<paramref name="MaxCount"/> of a–z.</summary>
public sealed record LetterPairTask(int MaxCount) : IPairKindsTask<(int Count, char Letter)>
{
    public string Name => "letters";

    public IReadOnlyList<(int Count, char Letter)> Items(int seed) => LetterTask.Combos(MaxCount, seed);

    public string Instruction((int Count, char Letter) item) => LetterTask.Instruction(item.Count, item.Letter);

    public string Answer((int Count, char Letter) item, Random random) => new(item.Letter, item.Count);

    public string Negative((int Count, char Letter) item, Random random) => LetterTask.Negative(item.Count, item.Letter, random);

    public DpoPair RefinementPair((int Count, char Letter) item, string negative) => LetterTask.RefinementPair(item.Count, item.Letter, negative);

    public DpoPair InterferingPair((int Count, char Letter) item, string negative, Random random) => LetterTask.InterferingPair(item.Count, item.Letter, negative);

    public bool Follows((int Count, char Letter) item, string response) => LetterTask.Follows(response, item.Count, item.Letter);

    public string? FactorName => "uppercase share";

    public double Factor((int Count, char Letter) item, string response) => LetterTask.UppercaseShare(response);

    public int MaxNewTokens => MaxCount + 4;

    public int StartSftSteps => 200;

    public double DpoLearningRate => 3e-4;
}

/// <summary>
/// The start/end story task of the paper's Figure 4: "Write a story that starts with S1 and ends with S2". A story
/// is S1, two body sentences, S2, all drawn from 16 short sentences. A negative lacks S1 or S2; its refinement pair
/// puts the missing sentence back around the same body, its interfering pair wraps S1 and S2 around another body, so
/// the pair also differs in the story told.
/// </summary>
public sealed record StoryPairTask : IPairKindsTask<(string Start, string End)>
{
    private static readonly string[] Subjects = ["A cat", "The dog", "A bird", "The fox"];
    private static readonly string[] Predicates = ["ran home.", "sat down.", "ate bread.", "saw a star."];

    /// <summary>The 16 sentences stories are made of.</summary>
    public static IReadOnlyList<string> Sentences { get; } = [.. from s in Subjects from p in Predicates select $"{s} {p}"];

    public string Name => "story";

    /// <summary>Every ordered pair of distinct sentences (240) in a seeded order.</summary>
    public IReadOnlyList<(string Start, string End)> Items(int seed)
    {
        var all = (from a in Sentences from b in Sentences where a != b select (a, b)).ToArray();
        new Random(seed).Shuffle(all);
        return all;
    }

    public string Instruction((string Start, string End) item) => $"Write a story that starts with \"{item.Start}\" and ends with \"{item.End}\"";

    public string Answer((string Start, string End) item, Random random) => Story(item.Start, Body(item, random), item.End);

    /// <summary>A story that lacks its first or its last sentence (the body and the other sentence kept).</summary>
    public string Negative((string Start, string End) item, Random random)
    {
        var body = Body(item, random);
        return random.Next(2) == 0 ? $"{body} {item.End}" : $"{item.Start} {body}";
    }

    /// <summary>The negative with the missing sentence put back: the same body.</summary>
    public DpoPair RefinementPair((string Start, string End) item, string negative) =>
        new(Instruction(item), Story(item.Start, BodyOf(item, negative), item.End), negative);

    /// <summary>A correct story around another body than the negative's.</summary>
    public DpoPair InterferingPair((string Start, string End) item, string negative, Random random)
    {
        var own = BodyOf(item, negative);
        string body;
        do
        {
            body = Body(item, random);
        }
        while (body == own);
        return new DpoPair(Instruction(item), Story(item.Start, body, item.End), negative);
    }

    /// <summary>Starts with S1 and ends with S2 as whole sentences, with something told in between.</summary>
    public bool Follows((string Start, string End) item, string response)
    {
        var text = response.Trim();
        return text.Length > item.Start.Length + item.End.Length + 1
            && text.StartsWith(item.Start + " ", StringComparison.Ordinal)
            && text.EndsWith(" " + item.End, StringComparison.Ordinal);
    }

    public string? FactorName => null;

    public double Factor((string Start, string End) item, string response) => 0;

    public int MaxNewTokens => 96;

    // Measured on seed 0: 400 steps copy 2.5% of held-out start/end pairs right, 800 steps 86%.
    public int StartSftSteps => 800;

    // Longer answers than letters: at 3e-4 (and 1e-4) DPO on either kind falls from 86% to below 50% within 160
    // steps (seed 0), at 3e-5 both stay within a few points of the start.
    public double DpoLearningRate => 3e-5;

    private static string Story(string start, string body, string end) => $"{start} {body} {end}";

    private static string Body((string Start, string End) item, Random random)
    {
        var others = Sentences.Where(s => s != item.Start && s != item.End).ToArray();
        var first = others[random.Next(others.Length)];
        string second;
        do
        {
            second = others[random.Next(others.Length)];
        }
        while (second == first);
        return $"{first} {second}";
    }

    // A negative is the body with S1 or S2 missing: strip whichever is there.
    private static string BodyOf((string Start, string End) item, string negative)
    {
        if (negative.StartsWith(item.Start + " ", StringComparison.Ordinal))
        {
            return negative[(item.Start.Length + 1)..];
        }
        return negative.EndsWith(" " + item.End, StringComparison.Ordinal) ? negative[..^(item.End.Length + 1)] : negative;
    }
}
