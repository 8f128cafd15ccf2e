using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.IfEval.Checkers;

/// <summary>Language, case, start/end, combination and punctuation checks.</summary>
internal static class OtherChecks
{
    public const string ResponseLanguage = "language:response_language";
    public const string CapitalWordFrequency = "change_case:capital_word_frequency";
    public const string EnglishCapital = "change_case:english_capital";
    public const string EnglishLowercase = "change_case:english_lowercase";
    public const string EndChecker = "startend:end_checker";
    public const string Quotation = "startend:quotation";
    public const string TwoResponses = "combination:two_responses";
    public const string RepeatPrompt = "combination:repeat_prompt";
    public const string NoComma = "punctuation:no_comma";

    public static IEnumerable<InstructionChecker> All() =>
    [
        new(ResponseLanguage, ["language"], (r, k) =>
        {
            var expected = Kwargs.Str(k, ResponseLanguage, "language");
            // A text without letters makes langdetect raise, which IFEval counts as followed.
            var detected = LanguageDetector.Detect(r);
            return detected is null || detected == expected;
        }),
        new(CapitalWordFrequency, ["capital_frequency", "capital_relation"], (r, k) =>
        {
            int count = 0;
            foreach (var token in TreebankWordTokenizer.WordTokenize(r))
            {
                count += PyText.IsUpper(token) ? 1 : 0;
            }
            return Kwargs.Rel(k, CapitalWordFrequency, "capital_relation")
                .Compare(count, Kwargs.Int(k, CapitalWordFrequency, "capital_frequency"));
        }),
        new(EnglishCapital, [], (r, _) => PyText.IsUpper(r) && LanguageDetector.Detect(r) is null or "en"),
        new(EnglishLowercase, [], (r, _) => PyText.IsLower(r) && LanguageDetector.Detect(r) is null or "en"),
        new(EndChecker, ["end_phrase"], (r, k) =>
        {
            var value = PyText.Lower(PyText.Strip(r).Trim('"'));
            var phrase = PyText.Lower(PyText.Strip(Kwargs.Str(k, EndChecker, "end_phrase")));
            return value.EndsWith(phrase, StringComparison.Ordinal);
        }),
        new(Quotation, [], (r, _) =>
        {
            var value = PyText.Strip(r);
            return value.Length > 1 && value[0] == '"' && value[^1] == '"';
        }),
        new(TwoResponses, [], (r, _) =>
        {
            var parts = r.Split("******");
            var valid = new List<string>();
            for (int i = 0; i < parts.Length; i++)
            {
                if (PyText.IsBlank(parts[i]))
                {
                    if (i != 0 && i != parts.Length - 1)
                    {
                        return false;
                    }
                }
                else
                {
                    valid.Add(parts[i]);
                }
            }
            return valid.Count == 2 && PyText.Strip(valid[0]) != PyText.Strip(valid[1]);
        }),
        new(RepeatPrompt, ["prompt_to_repeat"], (r, k) =>
            PyText.Lower(PyText.Strip(r)).StartsWith(
                PyText.Lower(PyText.Strip(Kwargs.Str(k, RepeatPrompt, "prompt_to_repeat"))), StringComparison.Ordinal)),
        new(NoComma, [], (r, _) => !r.Contains(',')),
    ];
}
