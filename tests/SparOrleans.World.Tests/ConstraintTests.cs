using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.World.Constraints;
using SparOrleans.World.Tasks;

namespace SparOrleans.World.Tests;

public class ConstraintTests
{
    private static readonly SeedTask Story = SeedTaskGenerator.Generate(TaskType.Story, new Random(1));

    private static EditContext Context(params string[] protectedSentences) => new(Story, protectedSentences, new Random(2));

    [Fact]
    public void NoComma_FixAndEvidence_DeletesCommasAndQuotesTheirWords()
    {
        var c = new NoCommaConstraint(new Random(0));
        const string text = "At dawn, the fox ran to the lake, fast.";

        Assert.Equal("commas after: dawn, lake,", c.Evidence(text));
        Assert.Equal("At dawn the fox ran to the lake fast.", c.Fix(text, Context()));
        Assert.Equal("commas: none", c.Evidence("No commas here."));
        Assert.False(c.IsFollowed(text));
    }

    [Fact]
    public void EndSentence_WrongClosing_ReplacedAndEvidenceCopiesLastWords()
    {
        var c = RequiredSentenceConstraint.Create(new Random(0), "See you soon.", atStart: false);
        const string text = "The fox ran home. That is all.";

        Assert.Equal("last words: That is all.; required: See you soon.", c.Evidence(text));
        Assert.Equal("The fox ran home. See you soon.", c.Fix(text, Context("See you soon.")));
        Assert.Equal("The fox ran home. See you soon.", c.Fix("The fox ran home.", Context("See you soon.")));
        Assert.Equal(new JsonObject { ["end_phrase"] = "See you soon." }.ToJsonString(), c.Kwargs().ToJsonString());
    }

    [Fact]
    public void StartSentence_Missing_PrependedAndCheckedAsRepeatPrompt()
    {
        var c = RequiredSentenceConstraint.Create(new Random(0), "Here it is.", atStart: true);

        Assert.Equal("combination:repeat_prompt", c.Kind.InstructionId);
        Assert.Equal("Here it is. The fox ran home.", c.Fix("The fox ran home.", Context("Here it is.")));
        Assert.Equal("Here it is. The fox ran home.", c.Fix("Listen to this. The fox ran home.", Context("Here it is.")));
        Assert.True(c.IsFollowed("here it is. the fox ran home."));
    }

    [Fact]
    public void Keywords_Missing_InsertedIntoFirstSentence()
    {
        var c = new KeywordsConstraint(new Random(0), ["lamp", "apple"]);

        var fixedText = c.Fix("The fox ran home. It slept.", Context());

        Assert.Equal("The fox ran home with the lamp with the apple. It slept.", fixedText);
        Assert.True(c.IsFollowed(fixedText));
        Assert.Equal("lamp: found; apple: missing", c.Evidence("A lamp."));
    }

    [Fact]
    public void ForbiddenWords_Present_ReplacedBySynonymKeepingCase()
    {
        var c = new ForbiddenWordsConstraint(new Random(0), ["small", "old"]);

        Assert.Equal("Tiny fox and an aged tree.", c.Fix("Small fox and an old tree.", Context()));
        Assert.Equal("forbidden words found: small", c.Evidence("a small fox"));
    }

    [Fact]
    public void Lowercase_Break_CapitalizesOneWordAndFixRestores()
    {
        var c = new LowercaseConstraint(new Random(0));
        const string text = "the fox ran to the lake.";

        var broken = c.Break(text, Context())!;

        Assert.False(c.IsFollowed(broken));
        Assert.Equal(text, c.Fix(broken, Context()));
        Assert.StartsWith("capitalized words: ", c.Evidence(broken));
    }

    [Fact]
    public void Bullets_TooFew_AddsItemsToReachCount()
    {
        var c = new BulletsConstraint(new Random(0), 3);

        var fixedText = c.Fix("- a lamp\n- a key", Context());

        Assert.Equal(3, fixedText.Split('\n').Length);
        Assert.True(c.IsFollowed(fixedText));
        Assert.Equal("bullets: 2; required: 3", c.Evidence("- a lamp\n- a key"));
    }

    [Fact]
    public void Highlights_Fix_NeverStartsALineWithAnAsterisk()
    {
        var c = new HighlightsConstraint(new Random(0), 2);

        var fixedText = c.Fix("- a lamp\n- a key\n- a rope", Context());

        Assert.True(c.IsFollowed(fixedText), fixedText);
        Assert.All(fixedText.Split('\n'), line => Assert.StartsWith("- ", line));
    }

    [Fact]
    public void Quotation_FixInsideQuotes_EndEditLandsInsideQuotes()
    {
        var end = RequiredSentenceConstraint.Create(new Random(0), "The end.", atStart: false);

        Assert.Equal("\"The fox ran home. The end.\"", end.Fix("\"The fox ran home.\"", Context("The end.")));
        Assert.Equal("\"The fox ran.\"", new QuotationConstraint(new Random(0)).Fix("The fox ran.", Context()));
    }

    [Fact]
    public void Sentiment_SimCheck_NeedsWantedWordAndNoOpposite()
    {
        Assert.True(SentimentConstraint.Check("A happy fox.", positive: true));
        Assert.False(SentimentConstraint.Check("A happy but sad fox.", positive: true));
        Assert.False(SentimentConstraint.Check("A fox.", positive: true));
        Assert.True(SentimentConstraint.Check("A gloomy fox.", positive: false));
        var c = new SentimentConstraint(new Random(0), positive: true);
        Assert.True(c.IsFollowed(c.Fix("The sad fox ran to the lake.", Context())));
    }

    [Fact]
    public void LetterCopies_SimCheck_IgnoresCaseAndSpacesButCountsExactly()
    {
        Assert.True(LetterCopiesConstraint.Check("a a A", 'a', 3));
        Assert.True(LetterCopiesConstraint.Check("AAA", 'a', 3));
        Assert.False(LetterCopiesConstraint.Check("a a", 'a', 3));
        Assert.False(LetterCopiesConstraint.Check("a a b", 'a', 3));
        var c = new LetterCopiesConstraint('q', 4);
        Assert.Equal("Q Q Q Q", c.Fix("Q Q Q", Context()));
        Assert.Equal("copies of q: 3; required: 4", c.Evidence("q q q"));
    }

    [Fact]
    public void WorldInstructions_ResolvesIfEvalAndSimIds_AndRejectsUnknown()
    {
        Assert.Equal("punctuation:no_comma", WorldInstructions.Get("punctuation:no_comma").Id);
        Assert.True(WorldInstructions.Get("sim:sentiment").IsFollowed("so glad", new JsonObject { ["sentiment"] = "positive" }));
        Assert.Throws<UserInputException>(() => WorldInstructions.Get("sim:nope"));
    }

    [Fact]
    public void Taxonomy_EveryKind_UsesAKnownVerifierAndEveryFamilyIsPresent()
    {
        foreach (var kind in Taxonomy.AllKinds)
        {
            Assert.Equal(kind.InstructionId, WorldInstructions.Get(kind.InstructionId).Id);
        }
        Assert.Equal(3, Taxonomy.Entries.Select(e => e.Kind.Family).Distinct().Count());
        Assert.True(Taxonomy.Conflict("lowercase", "uppercase"));
        Assert.True(Taxonomy.Conflict("uppercase", "end_sentence"));
        Assert.False(Taxonomy.Conflict("no_comma", "keywords"));
    }

    [Fact]
    public void IsFollowed_BlankResponse_IsNotFollowedEvenWhenTheCheckWouldPass()
    {
        Assert.False(new NoCommaConstraint(new Random(0)).IsFollowed("  "));
    }
}
