using SparOrleans.Core.Datasets;

namespace SparOrleans.Core.Simulation;

/// <summary>
/// The character-sequence task of the paper's Figure 4: "Write N letters x", any case allowed. A negative has the
/// wrong count in lowercase; its refinement pair keeps the lowercase and fixes only the count, while its interfering
/// pair answers correctly in uppercase, so the pair also differs in a factor the instruction does not ask about.
/// </summary>
public static class LetterTask
{
    public static string Instruction(int count, char letter) => $"Write {count} letters {letter}";

    /// <summary>Every (count 1–<paramref name="maxCount"/>, letter a–z) combination in a seeded order.</summary>
    public static IReadOnlyList<(int Count, char Letter)> Combos(int maxCount, int seed)
    {
        var all = (from n in Enumerable.Range(1, maxCount) from c in Enumerable.Range('a', 26) select (n, (char)c)).ToArray();
        new Random(seed).Shuffle(all);
        return all;
    }

    /// <summary>Exactly <paramref name="count"/> copies of the letter, each in either case, and nothing else but surrounding blanks.</summary>
    public static bool Follows(string response, int count, char letter)
    {
        var text = response.Trim();
        return text.Length == count && text.All(c => char.ToLowerInvariant(c) == char.ToLowerInvariant(letter));
    }

    /// <summary>Share of the response's letters that are uppercase (0 without letters): how far the interfering factor was learned.</summary>
    public static double UppercaseShare(string response)
    {
        var letters = response.Count(char.IsLetter);
        return letters == 0 ? 0 : (double)response.Count(char.IsUpper) / letters;
    }

    /// <summary>A lowercase answer one or two letters off (never empty).</summary>
    public static string Negative(int count, char letter, Random random)
    {
        int wrong;
        do
        {
            wrong = count + random.Next(2) switch { 0 => -1, _ => 1 } * random.Next(1, 3);
        }
        while (wrong < 1);
        return new string(char.ToLowerInvariant(letter), wrong);
    }

    /// <summary>The negative against its minimal fix: the same lowercase letters at the right count.</summary>
    public static DpoPair RefinementPair(int count, char letter, string negative) =>
        new(Instruction(count, letter), new string(char.ToLowerInvariant(letter), count), negative);

    /// <summary>The negative against a correct answer that also changes case: the key difference plus an interfering one.</summary>
    public static DpoPair InterferingPair(int count, char letter, string negative) =>
        new(Instruction(count, letter), new string(char.ToUpperInvariant(letter), count), negative);
}
