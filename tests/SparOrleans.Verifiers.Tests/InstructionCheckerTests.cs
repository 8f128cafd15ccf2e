using System.Text.Json.Nodes;
using SparOrleans.Verifiers.IfEval;

namespace SparOrleans.Verifiers.Tests;

/// <summary>Each IFEval check on passing, failing and edge-case responses; expectations follow the official code.</summary>
public class InstructionCheckerTests
{
    private static bool Check(string id, string kwargs, string response) =>
        InstructionRegistry.Get(id).IsFollowed(response, JsonNode.Parse(kwargs)!.AsObject());

    [Theory]
    [InlineData("""{"keywords":["apple","Pie"]}""", "I baked an APPLE pie.", true)]
    [InlineData("""{"keywords":["apple","pie"]}""", "pineapples only", false)]
    [InlineData("""{"keywords":["app"]}""", "happy", true)] // substring, not word-bounded
    [InlineData("""{"keywords":["café"]}""", "Un CAFÉ noir", true)]
    public void Existence_Keywords_FoundCaseInsensitively(string kwargs, string response, bool expected) =>
        Assert.Equal(expected, Check("keywords:existence", kwargs, response));

    [Theory]
    [InlineData("""{"keyword":"might","frequency":2,"relation":"at least"}""", "Might we? We might.", true)]
    [InlineData("""{"keyword":"might","frequency":2,"relation":"less than"}""", "Might we? We might.", false)]
    [InlineData("""{"keyword":" might ","frequency":3,"relation":"at least"}""", "mighty might", false)]
    [InlineData("""{"keyword":"might","frequency":1,"relation":"less than"}""", "nothing here", true)]
    public void Frequency_CountsMatches_ComparesWithRelation(string kwargs, string response, bool expected) =>
        Assert.Equal(expected, Check("keywords:frequency", kwargs, response));

    [Theory]
    [InlineData("""{"forbidden_words":["bad","ugly"]}""", "A good day.", true)]
    [InlineData("""{"forbidden_words":["bad","ugly"]}""", "Not BAD at all.", false)]
    [InlineData("""{"forbidden_words":["bad"]}""", "badly and badge", true)] // word-bounded
    [InlineData("""{"forbidden_words":["bad"]}""", "bad_word", true)] // '_' is a word character in Python
    [InlineData("""{"forbidden_words":["naïve"]}""", "so naïve.", false)]
    public void ForbiddenWords_WordBoundedCaseInsensitive(string kwargs, string response, bool expected) =>
        Assert.Equal(expected, Check("keywords:forbidden_words", kwargs, response));

    [Theory]
    [InlineData("""{"letter":"e","let_frequency":3,"let_relation":"at least"}""", "EeE", true)]
    [InlineData("""{"letter":"E","let_frequency":3,"let_relation":"at least"}""", "ee", false)]
    [InlineData("""{"letter":"z","let_frequency":1,"let_relation":"less than"}""", "no such letter", true)]
    [InlineData("""{"letter":"#","let_frequency":2,"let_relation":"at least"}""", "#a #b", true)]
    public void LetterFrequency_CountsLoweredLetter(string kwargs, string response, bool expected) =>
        Assert.Equal(expected, Check("keywords:letter_frequency", kwargs, response));

    [Theory]
    [InlineData("de", "Das ist ein schöner Tag, und wir gehen mit dem Hund in den Park.", true)]
    [InlineData("de", "This is a nice day and we walk the dog in the park.", false)]
    [InlineData("hi", "यह एक अच्छा दिन है और हम पार्क में जाते हैं।", true)]
    [InlineData("ko", "오늘은 날씨가 정말 좋습니다.", true)]
    [InlineData("fr", "1234 !!! ---", true)] // no letters: langdetect raises, IFEval counts it as followed
    public void ResponseLanguage_DetectsLanguage(string language, string response, bool expected) =>
        Assert.Equal(expected, Check("language:response_language", $$"""{"language":"{{language}}"}""", response));

    [Theory]
    [InlineData(3, "at least", "One. Two! Three?", true)]
    [InlineData(3, "less than", "One. Two! Three?", false)]
    [InlineData(2, "less than", "Mr. Smith met Dr. Jones at 5 p.m. today.", true)] // abbreviations do not end sentences
    [InlineData(1, "at least", "no final punctuation", true)]
    public void NumberSentences_PunktCount(int n, string relation, string response, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:number_sentences", $$"""{"num_sentences":{{n}},"relation":"{{relation}}"}""", response));

    [Theory]
    [InlineData(3, "a\n***\nb\n***\nc", true)]
    [InlineData(2, "***\na\n***\nb\n***", true)] // empty first and last parts are ignored
    [InlineData(3, "a\n***\n\n***\nc", false)] // an empty middle part fails
    [InlineData(1, "just one paragraph", true)]
    public void NumberParagraphs_SplitOnDivider(int n, string response, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:number_paragraphs", $$"""{"num_paragraphs":{{n}}}""", response));

    [Theory]
    [InlineData(5, "at least", "one two, three-four five", true)] // \w+ splits on the hyphen
    [InlineData(5, "less than", "one two, three-four five", false)]
    [InlineData(3, "at least", "don't stop_now", true)] // don, t, stop_now
    [InlineData(2, "at least", "हिन्दी", true)] // Python \w excludes combining vowel signs, so this is 2+ tokens
    public void NumberWords_RegexpTokenizer(int n, string relation, string response, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:number_words", $$"""{"num_words":{{n}},"relation":"{{relation}}"}""", response));

    [Theory]
    [InlineData("First para.\n\n\"Second, begins here.\n\nThird.", 3, 2, "second", true)]
    [InlineData("First para.\n\nSecond.\n\nThird.", 3, 2, "third", false)]
    [InlineData("First para.\n\nSecond.", 3, 2, "second", false)] // wrong paragraph count
    [InlineData("A.\n\n\n\nB.", 2, 2, "b", false)] // the index counts the blank part, as IFEval does
    public void NthParagraphFirstWord_ChecksCountAndWord(string response, int num, int nth, string word, bool expected) =>
        Assert.Equal(expected, Check("length_constraints:nth_paragraph_first_word",
            $$"""{"num_paragraphs":{{num}},"nth_paragraph":{{nth}},"first_word":"{{word}}"}""", response));

    [Theory]
    [InlineData(2, "[name] lives at [address]", true)]
    [InlineData(3, "[name] lives at [address]", false)]
    [InlineData(1, "[] counts too", true)]
    public void NumberPlaceholders_CountsBrackets(int n, string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_content:number_placeholders", $$"""{"num_placeholders":{{n}}}""", response));

    [Theory]
    [InlineData("P.S.", "Body.\nP.S. see you", true)]
    [InlineData("P.S.", "Body.\nps see you", false)]
    [InlineData("P.P.S", "Body.\np.p.s. more", true)]
    [InlineData("P.P.S", "Body.\nP.S. only", false)]
    [InlineData("Note:", "Body.\nnote: custom marker", true)]
    public void Postscript_FindsMarker(string marker, string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_content:postscript", $$"""{"postscript_marker":"{{marker}}"}""", response));

    [Theory]
    [InlineData(3, "* a\n* b\n- c", true)]
    [InlineData(2, "* a\n* b\n- c", false)]
    [InlineData(1, "** bold is not a bullet\n* real", true)]
    [InlineData(0, "plain text", true)]
    public void NumberBulletLists_ExactCount(int n, string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:number_bullet_lists", $$"""{"num_bullets":{{n}}}""", response));

    [Theory]
    [InlineData("My answer is yes.", true)]
    [InlineData("Well... My answer is maybe. Sorry", true)]
    [InlineData("my answer is yes.", false)]
    [InlineData("My answer is yes", false)]
    public void ConstrainedResponse_ContainsOption(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:constrained_response", "{}", response));

    [Theory]
    [InlineData(2, "*one* and *two*", true)]
    [InlineData(1, "**bold** only", true)] // the **..** pattern counts it; the *..* matches ("**" twice) are empty
    [InlineData(2, "**bold** only", false)]
    [InlineData(1, "** ** and * *", false)]
    [InlineData(1, "*across\nlines*", false)]
    public void NumberHighlightedSections_CountsNonEmpty(int n, string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:number_highlighted_sections", $$"""{"num_highlights":{{n}}}""", response));

    [Theory]
    [InlineData("SECTION", 2, "SECTION 1\nIntro\nSECTION 2\nBody", true)]
    [InlineData("SECTION", 3, "SECTION 1\nIntro\nSECTION 2\nBody", false)]
    [InlineData("Section", 2, "section 1 lower case does not count\nSection 2", false)]
    public void MultipleSections_SplitsOnMarker(string spliter, int n, string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:multiple_sections",
            $$"""{"section_spliter":"{{spliter}}","num_sections":{{n}}}""", response));

    [Theory]
    [InlineData("{\"a\": [1, 2.5e3, null, true]}", true)]
    [InlineData("```json\n{\"a\": 1}\n```", true)]
    [InlineData("```JSON\n[1, 2]\n```", true)]
    [InlineData("  ```\n\"just a string\"\n```  ", true)]
    [InlineData("{\"a\": NaN, \"b\": -Infinity}", true)] // Python's json accepts these
    [InlineData("{\"a\": 1,}", false)]
    [InlineData("{'a': 1}", false)]
    [InlineData("Here is JSON: {\"a\": 1}", false)]
    [InlineData("{\"a\": \"tab\there\"}", false)] // raw control character inside a string
    [InlineData("{\"é\": \"ünïcode ✓\"}", true)]
    public void JsonFormat_ParsesAfterFenceRemoval(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:json_format", "{}", response));

    [Theory]
    [InlineData("<<My Title>>\nbody", true)]
    [InlineData("<<   >> nothing", false)]
    [InlineData("<<broken\ntitle>>", false)]
    public void Title_NeedsNonBlankDoubleAngles(string response, bool expected) =>
        Assert.Equal(expected, Check("detectable_format:title", "{}", response));

    [Theory]
    [InlineData("First answer.\n******\nSecond answer.", true)]
    [InlineData("Same.\n******\nSame.", false)]
    [InlineData("A\n******\n\n******\nB", false)]
    [InlineData("******\nA\n******\nB\n******", true)]
    [InlineData("Only one", false)]
    public void TwoResponses_TwoDifferentParts(string response, bool expected) =>
        Assert.Equal(expected, Check("combination:two_responses", "{}", response));

    [Theory]
    [InlineData("Write a poem.", "  write a POEM. Here it is...", true)]
    [InlineData("Write a poem.", "Sure! Write a poem.", false)]
    public void RepeatPrompt_StartsWithPrompt(string prompt, string response, bool expected) =>
        Assert.Equal(expected, Check("combination:repeat_prompt",
            new JsonObject { ["prompt_to_repeat"] = prompt }.ToJsonString(), response));

    [Theory]
    [InlineData("Any other questions?", "Done. ANY OTHER QUESTIONS?\"  ", true)]
    [InlineData("Any other questions?", "Any other questions? Bye.", false)]
    public void EndChecker_EndsWithPhrase(string phrase, string response, bool expected) =>
        Assert.Equal(expected, Check("startend:end_checker", $$"""{"end_phrase":"{{phrase}}"}""", response));

    [Theory]
    [InlineData("  \"quoted\"  ", true)]
    [InlineData("\"", false)]
    [InlineData("“curly”", false)]
    [InlineData("\"open only", false)]
    public void Quotation_WrappedInDoubleQuotes(string response, bool expected) =>
        Assert.Equal(expected, Check("startend:quotation", "{}", response));

    [Theory]
    [InlineData(3, "at least", "NASA and the FBI DON'T agree.", true)] // NASA, FBI, DO, N'T
    [InlineData(4, "less than", "NASA and the FBI DON'T agree.", false)]
    [InlineData(1, "less than", "no capitals here, 123.", true)]
    public void CapitalWordFrequency_CountsUpperTokens(int n, string relation, string response, bool expected) =>
        Assert.Equal(expected, Check("change_case:capital_word_frequency",
            $$"""{"capital_frequency":{{n}},"capital_relation":"{{relation}}"}""", response));

    [Theory]
    [InlineData("THIS IS ALL CAPITAL AND IT IS ENGLISH.", true)]
    [InlineData("THIS IS Mostly CAPITAL.", false)]
    [InlineData("DAS IST EIN SCHÖNER TAG UND WIR GEHEN IN DEN PARK.", false)]
    [InlineData("1234", false)] // no cased character
    public void EnglishCapital_UpperAndEnglish(string response, bool expected) =>
        Assert.Equal(expected, Check("change_case:english_capital", "{}", response));

    [Theory]
    [InlineData("this is all lower case and it is english.", true)]
    [InlineData("this is not All lower case.", false)]
    [InlineData("ünïcode lower but the text is english", true)]
    public void EnglishLowercase_LowerAndEnglish(string response, bool expected) =>
        Assert.Equal(expected, Check("change_case:english_lowercase", "{}", response));

    [Theory]
    [InlineData("No commas here.", true)]
    [InlineData("One, two.", false)]
    [InlineData("Fullwidth comma，is not ASCII", true)]
    public void NoComma_RejectsAsciiComma(string response, bool expected) =>
        Assert.Equal(expected, Check("punctuation:no_comma", "{}", response));
}
