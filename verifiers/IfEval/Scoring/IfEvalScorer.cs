using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;

namespace SparOrleans.Verifiers.IfEval.Scoring;

/// <summary>
/// IFEval scoring as in <c>evaluation_lib.py</c>: strict (the response as is) and loose (any of eight variants:
/// as is, <c>*</c> removed, first line and/or last line removed, and those with <c>*</c> removed). A blank response
/// (or variant) follows nothing.
/// </summary>
public static class IfEvalScorer
{
    /// <summary>Strict verdict per instruction.</summary>
    public static IReadOnlyList<bool> FollowStrict(string response, IReadOnlyList<string> instructionIds, IReadOnlyList<JsonObject> kwargs)
    {
        var verdicts = new bool[instructionIds.Count];
        bool blank = Text.PyText.IsBlank(response);
        for (int i = 0; i < verdicts.Length; i++)
        {
            var checker = InstructionRegistry.Get(instructionIds[i]);
            verdicts[i] = !blank && checker.IsFollowed(response, kwargs[i]);
        }
        return verdicts;
    }

    /// <summary>Loose verdict per instruction: followed by at least one non-blank variant.</summary>
    public static IReadOnlyList<bool> FollowLoose(string response, IReadOnlyList<string> instructionIds, IReadOnlyList<JsonObject> kwargs)
    {
        // Checks are deterministic, so a variant equal to an earlier one (no '*', one line...) cannot change the verdict.
        var variants = LooseVariants(response).Where(v => !Text.PyText.IsBlank(v)).Distinct(StringComparer.Ordinal).ToList();
        var verdicts = new bool[instructionIds.Count];
        for (int i = 0; i < verdicts.Length; i++)
        {
            var checker = InstructionRegistry.Get(instructionIds[i]);
            foreach (var variant in variants)
            {
                if (checker.IsFollowed(variant, kwargs[i]))
                {
                    verdicts[i] = true;
                    break;
                }
            }
        }
        return verdicts;
    }

    /// <summary>The eight loose variants in IFEval's order (the line-removed ones are stripped, as there).</summary>
    public static IReadOnlyList<string> LooseVariants(string response)
    {
        var lines = response.Split('\n');
        string Join(int from, int to) => from >= to ? "" : Text.PyText.Strip(string.Join('\n', lines, from, to - from));
        var removeFirst = Join(1, lines.Length);
        var removeLast = Join(0, lines.Length - 1);
        var removeBoth = Join(1, lines.Length - 1);
        return
        [
            response,
            response.Replace("*", ""),
            removeFirst,
            removeLast,
            removeBoth,
            removeFirst.Replace("*", ""),
            removeLast.Replace("*", ""),
            removeBoth.Replace("*", ""),
        ];
    }

    /// <summary>Scores one response; a bad kwarg is reported with the prompt's key.</summary>
    public static IfEvalPromptResult ScoreOne(IfEvalExample example, string response)
    {
        try
        {
            return new IfEvalPromptResult(
                example,
                response,
                FollowStrict(response, example.InstructionIds, example.Kwargs),
                FollowLoose(response, example.InstructionIds, example.Kwargs));
        }
        catch (UserInputException e)
        {
            throw new UserInputException($"prompt {example.Key}: {e.Message}", e);
        }
    }

    /// <summary>Scores every example with the response given for its prompt text; a missing one is a user error.</summary>
    public static IfEvalReport Score(IReadOnlyList<IfEvalExample> examples, IReadOnlyDictionary<string, string> responsesByPrompt, string responsesSource = "the response file")
    {
        var missing = examples.Where(e => !responsesByPrompt.ContainsKey(e.Prompt)).ToList();
        if (missing.Count > 0)
        {
            var first = missing[0].Prompt;
            var shown = first.Length > 80 ? first[..80] + "..." : first;
            throw new UserInputException(
                $"{responsesSource} has no response for {missing.Count} prompt(s), first: key {missing[0].Key} \"{shown.ReplaceLineEndings(" ")}\"");
        }
        return Score(examples.Select(e => (e, responsesByPrompt[e.Prompt])));
    }

    /// <summary>Scores (example, response) pairs.</summary>
    public static IfEvalReport Score(IEnumerable<(IfEvalExample Example, string Response)> pairs)
    {
        var results = pairs.Select(p => ScoreOne(p.Example, p.Response)).ToList();
        if (results.Count == 0)
        {
            throw new UserInputException("no IFEval prompts to score");
        }
        int instructions = 0, strictFollowed = 0, looseFollowed = 0;
        var table = new SortedDictionary<string, (int Count, int Strict, int Loose)>(StringComparer.Ordinal);
        foreach (var r in results)
        {
            for (int i = 0; i < r.Example.InstructionIds.Count; i++)
            {
                var id = r.Example.InstructionIds[i];
                bool s = r.FollowInstructionListStrict[i], l = r.FollowInstructionListLoose[i];
                instructions++;
                strictFollowed += s ? 1 : 0;
                looseFollowed += l ? 1 : 0;
                var row = table.GetValueOrDefault(id);
                table[id] = (row.Count + 1, row.Strict + (s ? 1 : 0), row.Loose + (l ? 1 : 0));
            }
        }
        double Fraction(int n, int d) => d == 0 ? 0 : (double)n / d;
        var accuracies = new IfEvalAccuracies(
            Fraction(results.Count(r => r.FollowAllStrict), results.Count),
            Fraction(strictFollowed, instructions),
            Fraction(results.Count(r => r.FollowAllLoose), results.Count),
            Fraction(looseFollowed, instructions));
        return new IfEvalReport(
            results,
            accuracies,
            [.. table.Select(kv => new IfEvalTypeAccuracy(kv.Key, kv.Value.Count, kv.Value.Strict, kv.Value.Loose))]);
    }
}
