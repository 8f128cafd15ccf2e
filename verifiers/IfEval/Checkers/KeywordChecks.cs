using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.IfEval.Checkers;

/// <summary><c>keywords:*</c> checks: keywords are regex patterns searched case-insensitively, as in IFEval.</summary>
internal static class KeywordChecks
{
    public const string Existence = "keywords:existence";
    public const string Frequency = "keywords:frequency";
    public const string ForbiddenWords = "keywords:forbidden_words";
    public const string LetterFrequency = "keywords:letter_frequency";

    public static IEnumerable<InstructionChecker> All() =>
    [
        new(Existence, ["keywords"], (r, k) =>
        {
            foreach (var keyword in Kwargs.StrList(k, Existence, "keywords"))
            {
                if (!Kwargs.Pattern(keyword, RegexOptions.IgnoreCase, Existence).IsMatch(r))
                {
                    return false;
                }
            }
            return true;
        }),
        new(Frequency, ["keyword", "frequency", "relation"], (r, k) =>
        {
            var keyword = PyText.Strip(Kwargs.Str(k, Frequency, "keyword"));
            int count = Kwargs.Pattern(keyword, RegexOptions.IgnoreCase, Frequency).Count(r);
            return Kwargs.Rel(k, Frequency, "relation").Compare(count, Kwargs.Int(k, Frequency, "frequency"));
        }),
        new(ForbiddenWords, ["forbidden_words"], (r, k) =>
        {
            foreach (var word in Kwargs.StrList(k, ForbiddenWords, "forbidden_words"))
            {
                if (Kwargs.Pattern(PyText.BoundaryBefore(word) + word + PyText.BoundaryAfter(word), RegexOptions.IgnoreCase, ForbiddenWords).IsMatch(r))
                {
                    return false;
                }
            }
            return true;
        }),
        new(LetterFrequency, ["letter", "let_frequency", "let_relation"], (r, k) =>
        {
            var letter = PyText.Lower(PyText.Strip(Kwargs.Str(k, LetterFrequency, "letter")));
            if (letter.Length != 1)
            {
                throw new Core.Errors.UserInputException(
                    $"instruction {LetterFrequency}: kwarg 'letter' must be a single character, got \"{letter}\"");
            }
            char target = letter[0];
            int count = 0;
            foreach (var c in r)
            {
                if (char.ToLowerInvariant(c) == target)
                {
                    count++;
                }
            }
            return Kwargs.Rel(k, LetterFrequency, "let_relation").Compare(count, Kwargs.Int(k, LetterFrequency, "let_frequency"));
        }),
    ];
}
