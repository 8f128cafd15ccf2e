using SparOrleans.World.Tasks;

namespace SparOrleans.World.Constraints;

/// <summary>
/// The world's constraint taxonomy: each constraint type with the tasks it suits and a factory drawing its
/// parameters and phrasing, plus the pairs that conflict or make an unreasonable prompt. Mirrors the paper's
/// families (Format: length, text format, character format, template, punctuation; Content: keyword, symbol,
/// sentence; General: language style, sentiment), restricted to what a verifier can check.
/// </summary>
public static class Taxonomy
{
    /// <summary>One selectable constraint type: metadata, where it applies, how to instantiate it.</summary>
    public sealed record Entry(ConstraintKind Kind, Func<TaskType, bool> AppliesTo, Func<SeedTask, Random, Constraint> Create);

    private static readonly TaskType[] Prose = [TaskType.Story, TaskType.Description];
    private static readonly TaskType[] General = [TaskType.Story, TaskType.List, TaskType.Description, TaskType.Letter, TaskType.Dialogue];
    private static readonly TaskType[] AllButCopies = [.. General, TaskType.StartEndStory];

    /// <summary>Every constraint type the composer may add to a prompt (the synthetic tasks' own are not listed).</summary>
    public static readonly IReadOnlyList<Entry> Entries =
    [
        new(LowercaseConstraint.KindInfo, In(General), (_, r) => new LowercaseConstraint(r)),
        new(UppercaseConstraint.KindInfo, In(General), (_, r) => new UppercaseConstraint(r)),
        new(NoCommaConstraint.KindInfo, In(AllButCopies), (_, r) => new NoCommaConstraint(r)),
        new(QuotationConstraint.KindInfo, In(General), (_, r) => new QuotationConstraint(r)),
        new(TitleConstraint.KindInfo, In(General), (_, r) => new TitleConstraint(r)),
        new(PostscriptConstraint.KindInfo, In(General), (_, r) => new PostscriptConstraint(r)),
        new(BulletsConstraint.KindInfo, In(TaskType.List), (t, r) => new BulletsConstraint(r, t.Items.Count)),
        new(HighlightsConstraint.KindInfo, In(AllButCopies), (_, r) => new HighlightsConstraint(r, r.Next(1, 3))),
        new(SentencesConstraint.KindInfo, In(Prose), (_, r) => r.Next(2) == 0
            ? new SentencesConstraint(r, r.Next(3, 5), lessThan: true)
            : new SentencesConstraint(r, r.Next(2, 5), lessThan: false)),
        new(KeywordsConstraint.KindInfo, In(AllButCopies), (t, r) => new KeywordsConstraint(r, r.PickDistinct(Lexicon.Objects, r.Next(1, 3), [t.Object]))),
        new(KeywordFrequencyConstraint.KindInfo, In(AllButCopies), (t, r) => new KeywordFrequencyConstraint(r, r.Next(2) == 0 ? t.Object : r.Pick(Lexicon.Objects), r.Next(2, 4))),
        new(ForbiddenWordsConstraint.KindInfo, In(AllButCopies), (_, r) => new ForbiddenWordsConstraint(r, r.PickDistinct(Lexicon.Adjectives, r.Next(1, 3)))),
        new(PlaceholdersConstraint.KindInfo, In(TaskType.Letter, TaskType.Story, TaskType.Description), (_, r) => new PlaceholdersConstraint(r, r.Next(1, 3))),
        new(RequiredSentenceConstraint.StartKind, In(General), (_, r) => RequiredSentenceConstraint.Create(r, r.Pick(Lexicon.Openings), atStart: true)),
        new(RequiredSentenceConstraint.EndKind, In(General), (_, r) => RequiredSentenceConstraint.Create(r, r.Pick(Lexicon.Closings), atStart: false)),
        new(CapitalWordsConstraint.KindInfo, In(AllButCopies), (_, r) => new CapitalWordsConstraint(r, r.Next(1, 4))),
        new(SentimentConstraint.KindInfo, In(AllButCopies), (_, r) => new SentimentConstraint(r, r.Next(3) != 0)),
    ];

    /// <summary>All constraint types, including the synthetic tasks' own.</summary>
    public static IReadOnlyList<ConstraintKind> AllKinds { get; } =
    [
        .. Entries.Select(e => e.Kind),
        RequiredSentenceConstraint.StoryStartKind, RequiredSentenceConstraint.StoryEndKind, LetterCopiesConstraint.KindInfo,
    ];

    private static readonly HashSet<(string, string)> Conflicts = BuildConflicts();

    /// <summary>True when two constraint types cannot share a prompt (contradictory, or an unreasonable pairing).</summary>
    public static bool Conflict(string a, string b) => a == b || Conflicts.Contains((a, b));

    /// <summary>True when the set has no conflicting pair and no word both required and forbidden or required twice.</summary>
    public static bool Compatible(IReadOnlyList<Constraint> constraints)
    {
        for (var i = 0; i < constraints.Count; i++)
        {
            for (var j = i + 1; j < constraints.Count; j++)
            {
                if (Conflict(constraints[i].Kind.Name, constraints[j].Kind.Name)
                    || constraints[i].Words.Intersect(constraints[j].Words, StringComparer.OrdinalIgnoreCase).Any())
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static HashSet<(string, string)> BuildConflicts()
    {
        string[] cases = ["lowercase", "uppercase"];
        string[] starts = ["start_sentence", "story_start"];
        string[] ends = ["end_sentence", "story_end"];
        var pairs = new List<(string, string)>
        {
            ("lowercase", "uppercase"),
            // "at least N capital words" is void under all caps and impossible under all lowercase.
            ("lowercase", "capital_words"), ("uppercase", "capital_words"),
            // Its "P.S" token and the P.S. line's sentence make counts ambiguous between tokenizers.
            ("postscript", "capital_words"), ("postscript", "sentences"), ("title", "sentences"),
            // An opening quote, a bullet line or a title line would stand before the required sentence.
            ("quotation", "bullets"),
            ("start_sentence", "story_start"), ("end_sentence", "story_end"),
        };
        // An exact sentence to copy, then a rule that rewrites its case, is what the brief calls unreasonable.
        pairs.AddRange(cases.SelectMany(c => starts.Concat(ends).Select(s => (c, s))));
        pairs.AddRange(starts.SelectMany(s => new[] { ("quotation", s), ("title", s) }));
        // A postscript would follow the required last sentence.
        pairs.AddRange(ends.Select(e => ("postscript", e)));
        var set = new HashSet<(string, string)>();
        foreach (var (a, b) in pairs)
        {
            set.Add((a, b));
            set.Add((b, a));
        }
        return set;
    }

    private static Func<TaskType, bool> In(params TaskType[] types) => types.Contains;
}
