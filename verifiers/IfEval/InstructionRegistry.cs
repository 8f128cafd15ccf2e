using System.Collections.Frozen;
using SparOrleans.Core.Errors;
using SparOrleans.Verifiers.IfEval.Checkers;

namespace SparOrleans.Verifiers.IfEval;

/// <summary>All 25 IFEval instruction checkers by id. Checkers are stateless and thread-safe.</summary>
public static class InstructionRegistry
{
    private static readonly FrozenDictionary<string, InstructionChecker> Checkers =
        KeywordChecks.All()
            .Concat(LengthChecks.All())
            .Concat(FormatChecks.All())
            .Concat(OtherChecks.All())
            .ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);

    private static readonly IReadOnlyCollection<string> SortedIds = [.. Checkers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The 25 instruction ids, sorted.</summary>
    public static IReadOnlyCollection<string> Ids => SortedIds;

    /// <summary>The checker for <paramref name="instructionId"/>; an unknown id is a user error naming it.</summary>
    public static IInstructionChecker Get(string instructionId) => Lookup(instructionId);

    /// <summary>The kwarg names the checker reads, exactly as IFEval names them (empty for kwarg-free checks).</summary>
    public static IReadOnlyList<string> KwargNames(string instructionId) => Lookup(instructionId).KwargNames;

    private static InstructionChecker Lookup(string instructionId)
    {
        if (Checkers.TryGetValue(instructionId, out var checker))
        {
            return checker;
        }
        var close = Ids
            .Select(id => (id, distance: Distance(id, instructionId)))
            .Where(x => x.distance <= Math.Max(3, instructionId.Length / 3)
                        || x.id.EndsWith(":" + instructionId.Split(':')[^1], StringComparison.Ordinal))
            .OrderBy(x => x.distance)
            .Take(3)
            .Select(x => x.id)
            .ToList();
        var hint = close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : "; run without it or see verifiers/README.md for the 25 ids";
        throw new UserInputException($"unknown IFEval instruction id '{instructionId}'{hint}");
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
