using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Spectre.Console;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Core.Text;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>How much a frame shows.</summary>
/// <param name="ContextWords">Unchanged words kept on each side of an edit in a node's diff (default 8, 1-1000).</param>
/// <param name="RootWords">Words of the root (negative) response shown before it is cut (default 80).</param>
/// <param name="PromptRows">Rows of the iteration's prompt list (default 12); prompts in search come first.</param>
/// <param name="JudgmentWords">Words of a judgment (a sample's or a node's) shown before it is cut (default 60).</param>
public sealed record WatchViewOptions(int ContextWords = 8, int RootWords = 80, int PromptRows = 12, int JudgmentWords = 60);

/// <summary>
/// Turns a <see cref="WatchFrame"/> into text: the iteration overview, the prompt list, the selected prompt's samples
/// (each with its vote, the verifiers' verdict, the judgment the vote kept, and which one became the tree's root) and
/// its refinement tree, each node with its votes, V, the verifiers' verdict, depth, judgment and the word-by-word
/// difference from its parent. A node the judge accepts but the verifiers fail says so. Either
/// Spectre.Console markup (colours, for a terminal) or plain text with git word-diff markers <c>[-old-]{+new+}</c>.
/// Pure: no I/O, no clock.
/// </summary>
public static partial class WatchRenderer
{
    public static string Render(WatchFrame frame, bool markup, WatchViewOptions? options = null)
    {
        options ??= new WatchViewOptions();
        var w = new Writer(markup);
        Header(w, frame);
        if (frame.Iteration == 0)
        {
            w.Line(w.Dim("no prompts yet: the run is bootstrapping its models."));
            return w.ToString();
        }
        PromptList(w, frame, options);
        if (frame.Selected is { } selected)
        {
            w.Line("");
            Prompt(w, frame, selected, options);
        }
        return w.ToString();
    }

    private static void Header(Writer w, WatchFrame frame)
    {
        var s = frame.Status;
        var of = s.Spec is { } spec ? $" of {spec.Iterations}" : "";
        var progress = s.Total > 0 ? $" {s.Done}/{s.Total}" : "";
        var state = s.Status switch
        {
            RunStatusKind.Completed => w.Good("completed"),
            RunStatusKind.Failed => w.Bad("failed"),
            _ => w.Esc(s.Status.ToString().ToLowerInvariant()),
        };
        // A finished run's counter is one past its last iteration: name the iteration on view instead.
        var iteration = frame.Iteration > 0 ? frame.Iteration : s.Iteration;
        w.Line($"{w.Bold("run " + s.RunId)} · {state} · iteration {Num(iteration)}{of} · {PhaseNames.Of(s.Phase)}{progress}{(s.Message.Length > 0 ? " · " + w.Esc(s.Message) : "")}");
        if (s.Error is not null)
        {
            w.Line(w.Bad("error: " + s.Error));
        }
        w.Line(frame.Live ? w.Dim(frame.Source) : w.Warn(frame.Source));
        if (frame.Iteration == 0)
        {
            return;
        }
        var o = frame.Overview;
        var rate = frame.Throughput switch
        {
            { } t => $" · {t.ExpansionsPerSecond.ToString("F2", CultureInfo.InvariantCulture)} expansions/s · {t.PromptsPerMinute.ToString("F1", CultureInfo.InvariantCulture)} prompts/min",
            null when frame.Live && s.Status == RunStatusKind.Running => " · throughput: measuring",
            _ => "",
        };
        w.Line($"iteration {Num(frame.Iteration)}: {Num(o.Prompts)} prompts · done {Num(o.Done)} · in search {Num(o.InSearch)} · with winner {w.Good(Num(o.WithWinner))}{(frame.VerifiedWinners is { } verified ? $" ({Num(verified)} pass the verifiers)" : "")} · failed {w.Bad(Num(o.Failed))} · no negative {Num(o.NoNegative)}{(o.NoVerdict > 0 ? $" ({w.Bad($"all votes invalid {Num(o.NoVerdict)}")})" : "")} · waiting {Num(o.Waiting)}");
        w.Line($"expansions {Num(o.Expansions)}{rate}");
    }

    private static void PromptList(Writer w, WatchFrame frame, WatchViewOptions options)
    {
        if (frame.Prompts.Count == 0)
        {
            return;
        }
        w.Line("");
        var rows = frame.Prompts.OrderBy(p => p.Phase == PromptPhase.Searching ? 0 : 1).Take(options.PromptRows).ToList();
        var width = rows.Max(p => WatchFrame.PromptId(p).Length);
        foreach (var p in rows)
        {
            var id = WatchFrame.PromptId(p).PadRight(width);
            var marker = ReferenceEquals(p, frame.Selected) || p.Key == frame.Selected?.Key ? ">" : " ";
            w.Line($"{marker} {w.Esc(id)}  {PromptState(w, p)}");
        }
        if (frame.Prompts.Count > rows.Count)
        {
            w.Line(w.Dim($"  ... {frame.Prompts.Count - rows.Count} more (spar watch RUN --prompt ID shows one)"));
        }
    }

    private static string PromptState(Writer w, PromptSnapshot p)
    {
        var expansions = p.Search is { } s ? $" · {Num(s.Expansions)} expansions" : "";
        return p.Outcome switch
        {
            { HadNegative: false } => WatchFrame.WhyNoNegative(p) is NoNegativeReason.AllVotesInvalid
                ? $"done · {w.Bad("no negative: " + NegativeSelection.Describe(NoNegativeReason.AllVotesInvalid))}"
                : $"done · no negative ({NoNegativeText(p)})",
            { FoundWinner: true, WinnerDepth: var depth } => $"done · {w.Good($"winner at depth {Num(depth ?? 0)}")}{expansions}",
            { } => $"done · {w.Bad("no winner")}{expansions}",
            null => PhaseNames.Of(p.Phase) + expansions,
        };
    }

    private static void Prompt(Writer w, WatchFrame frame, PromptSnapshot p, WatchViewOptions options)
    {
        w.Line($"{w.Bold("prompt " + WatchFrame.PromptId(p))} · {PromptState(w, p)}");
        if (p.Prompt is { } spec)
        {
            w.Line($"instruction: {w.Esc(Cut(spec.Instruction, 60))}");
        }
        if (p.Samples.Count > 0)
        {
            w.Line("samples:");
            var root = WatchFrame.RootSample(p);
            for (var i = 0; i < p.Samples.Count; i++)
            {
                var sample = p.Samples[i];
                var parts = new List<string> { $"#{Num(i)} {Verdict(w, sample.Vote)} {Votes(sample.Vote)}" };
                if (Verified(w, frame.Follows(p, sample.Response), sample.Vote.Majority) is { } verified)
                {
                    parts.Add(verified);
                }
                if (root == i)
                {
                    parts.Add(w.Warn("ROOT: the negative the tree refines"));
                }
                w.Line("  " + string.Join(" · ", parts));
                foreach (var line in JudgmentLines(w, sample.Vote, options))
                {
                    w.Line("     " + line);
                }
            }
        }
        if (p.Search is not { } search)
        {
            w.Line(w.Dim(p.Phase < PromptPhase.Judged ? "no tree yet: the prompt is being sampled and judged." : "no tree: no negative to refine."));
            return;
        }
        var end = search.End is { } e
            ? $" · ended: {(e.WinnerId is { } win ? w.Good($"winner #{Num(win)}") : w.Bad("no winner"))} ({w.Esc(e.Reason)})"
            : "";
        w.Line($"tree: {search.Policy.ToString().ToLowerInvariant()} · {Num(search.Nodes.Count)} nodes · step {Num(search.Step)}{end}");
        var children = search.Nodes.Where(n => n.Id != n.ParentId && n.Id != 0).ToLookup(n => n.ParentId);
        Node(w, frame, p, search, search.Root, children, prefix: "", connector: "", continuation: "", options);
    }

    private static void Node(Writer w, WatchFrame frame, PromptSnapshot p, SearchState search, SearchNode node, ILookup<int, SearchNode> children,
        string prefix, string connector, string continuation, WatchViewOptions options)
    {
        var follows = node.Response is { } text ? frame.Follows(p, text) : null;
        w.Line($"{prefix}{connector}{NodeHeader(w, search, node, follows, WatchFrame.RootSample(p))}");
        var body = prefix + continuation + "   ";
        foreach (var line in NodeBody(w, search, node, options))
        {
            w.Line(body + line);
        }
        if (node.Judgment is { } judgment && node.Status is NodeStatus.Root or NodeStatus.Judged)
        {
            foreach (var line in Judgment(w, "judgment", judgment, options))
            {
                w.Line(body + line);
            }
        }
        var kids = children[node.Id].OrderBy(n => n.Id).ToList();
        for (var i = 0; i < kids.Count; i++)
        {
            var last = i == kids.Count - 1;
            Node(w, frame, p, search, kids[i], children, prefix + continuation, last ? "└─ " : "├─ ", last ? "   " : "│  ", options);
        }
    }

    private static string NodeHeader(Writer w, SearchState search, SearchNode node, bool? follows, int? rootSample)
    {
        var root = node.Status != NodeStatus.Root ? "" : rootSample is { } sample ? $" root (sample #{Num(sample)})" : " root";
        var parts = new List<string> { w.Bold($"#{Num(node.Id)}") + root, $"depth {Num(node.Depth)}" };
        switch (node.Status)
        {
            case NodeStatus.Pending:
                parts.Add(w.Dim("expanding..."));
                break;
            case NodeStatus.Failed:
                parts.Add(w.Bad("failed: no refined text"));
                break;
            case NodeStatus.Discarded:
                parts.Add(w.Warn("discarded: tied vote") + (node.Vote is { } tie ? " " + Votes(tie) : ""));
                break;
            default:
                if (node.Vote is { } vote)
                {
                    parts.Add(Votes(vote));
                }
                if (node.Value is { } v)
                {
                    parts.Add($"V {v.ToString("F2", CultureInfo.InvariantCulture)}");
                }
                if (Verified(w, follows, node.Status == NodeStatus.Root ? Core.Formats.Verdict.No : node.Vote?.Majority) is { } verified)
                {
                    parts.Add(verified);
                }
                break;
        }
        if (node.FromCache)
        {
            parts.Add(w.Dim("cached"));
        }
        if (search.End?.WinnerId == node.Id)
        {
            // The judge's winner is DPO's chosen response: one the verifiers fail is a wrong label, not a success.
            parts.Add(follows == false ? w.Bad("WINNER, but it fails the verifiers") : w.Good("WINNER"));
        }
        else if (search.End?.BestId == node.Id && node.Status != NodeStatus.Root)
        {
            parts.Add("best");
        }
        return string.Join(" · ", parts);
    }

    private static IEnumerable<string> NodeBody(Writer w, SearchState search, SearchNode node, WatchViewOptions options)
    {
        if (node.Response is not { } response)
        {
            return [];
        }
        var parentText = node.Status == NodeStatus.Root ? null : search.Nodes[node.ParentId].Response;
        if (parentText is null)
        {
            return Lines(w, [new DiffSegment(DiffKind.Equal, CutWords(response, options.RootWords))]);
        }
        var segments = WordDiff.Compute(parentText, response);
        if (segments.All(s => s.Kind == DiffKind.Equal))
        {
            return [w.Dim("(same text as its parent)")];
        }
        return Lines(w, Elide(segments, options.ContextWords));
    }

    /// <summary>Unchanged runs longer than the context keep only their edges around the edits.</summary>
    private static List<DiffSegment> Elide(IReadOnlyList<DiffSegment> segments, int context)
    {
        var result = new List<DiffSegment>();
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            if (s.Kind != DiffKind.Equal)
            {
                result.Add(s);
                continue;
            }
            var words = WordTokens(s.Text);
            var keepHead = i == 0 ? 0 : context;
            var keepTail = i == segments.Count - 1 ? 0 : context;
            if (words.Count <= keepHead + keepTail + 1)
            {
                result.Add(s);
                continue;
            }
            var head = string.Concat(words.Take(keepHead));
            var tail = string.Concat(words.Skip(words.Count - keepTail));
            result.Add(new DiffSegment(DiffKind.Equal, $"{head}...{(tail.Length > 0 ? " " : "")}{tail}"));
        }
        return result;
    }

    /// <summary>Tokens of a text, each a word with the whitespace after it (so a slice keeps the spacing).</summary>
    private static List<string> WordTokens(string text) => [.. WordWithSpace().Matches(text).Select(m => m.Value)];

    /// <summary>Diff segments as printable lines; a changed line break shows as ¶ so it is not invisible.</summary>
    private static List<string> Lines(Writer w, IReadOnlyList<DiffSegment> segments)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var s in segments)
        {
            var text = s.Kind == DiffKind.Equal ? s.Text : s.Text.Replace("\n", "¶\n", StringComparison.Ordinal);
            var pieces = text.Split('\n');
            for (var i = 0; i < pieces.Length; i++)
            {
                if (i > 0)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
                if (pieces[i].Length > 0)
                {
                    line.Append(w.Segment(s.Kind, pieces[i]));
                }
            }
        }
        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>
    /// The verifiers' verdict, marked where it contradicts the judge's majority (a judged-right response that fails,
    /// or a judged-wrong one that passes); null where the verifiers cannot tell.
    /// </summary>
    private static string? Verified(Writer w, bool? follows, Core.Formats.Verdict? majority) => VerifierNote.Of(follows, majority) switch
    {
        null => null,
        { Passes: false } note => w.Bad(note.Text),
        { Disagrees: true } note => w.Warn(note.Text),
        var note => w.Good(note.Text),
    };

    /// <summary>
    /// A sample's judgment: the one its vote kept, or (no majority) its first judgment, so a vote that never produced
    /// a verdict shows what the refiner wrote instead.
    /// </summary>
    private static IEnumerable<string> JudgmentLines(Writer w, Vote vote, WatchViewOptions options) =>
        ShownJudgment(vote) is { } shown ? Judgment(w, shown.Label, shown.Text, options) : [];

    /// <summary>The judgment a view shows for a vote, with its label; null when the vote has no samples.</summary>
    internal static (string Label, string Text)? ShownJudgment(Vote vote) =>
        vote.KeptJudgment is { } kept ? ("judgment", kept)
        : vote.Samples.Count > 0 ? (vote.Yes + vote.No == 0 ? "judgment (no verdict)" : "judgment (tied vote, first)", vote.Samples[0])
        : null;

    private static IEnumerable<string> Judgment(Writer w, string label, string text, WatchViewOptions options)
    {
        var lines = CutWords(text.Trim(), options.JudgmentWords).Split('\n');
        yield return w.Dim(label + ": ") + w.Esc(lines[0]);
        foreach (var line in lines.Skip(1))
        {
            yield return "  " + w.Esc(line);
        }
    }

    internal static string NoNegativeText(PromptSnapshot p) =>
        WatchFrame.WhyNoNegative(p) is { } reason ? NegativeSelection.Describe(reason) : "no sample judged wrong";

    private static string Verdict(Writer w, Vote vote) => vote.Majority switch
    {
        Core.Formats.Verdict.Yes => w.Good("yes"),
        Core.Formats.Verdict.No => w.Bad("no"),
        _ when vote.Yes + vote.No == 0 => w.Bad("no verdict"),
        _ => w.Warn("tie"),
    };

    /// <summary>"Yes 4 / No 1", with invalid judgments and re-judging rounds when there were any.</summary>
    public static string Votes(Vote vote) =>
        $"Yes {Num(vote.Yes)} / No {Num(vote.No)}"
        + (vote.Invalid > 0 ? $" / invalid {Num(vote.Invalid)}" : "")
        + (vote.Rounds > 1 ? $" ({Num(vote.Rounds)} rounds)" : "");

    private static string Cut(string text, int words) => CutWords(text.ReplaceLineEndings(" "), words);

    private static string CutWords(string text, int words)
    {
        var tokens = WordTokens(text);
        return tokens.Count <= words ? text : $"{string.Concat(tokens.Take(words))}... ({Num(tokens.Count - words)} more words)";
    }

    [GeneratedRegex(@"^\s+|\S+\s*")]
    private static partial Regex WordWithSpace();

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Collects lines, escaping text and adding colour only in markup mode.</summary>
    private sealed class Writer(bool markup)
    {
        private readonly StringBuilder _text = new();

        public void Line(string line) => _text.Append(line).Append('\n');

        public string Esc(string text) => markup ? Markup.Escape(text) : text;

        public string Bold(string text) => Style("bold", text);

        public string Dim(string text) => Style("grey", text);

        public string Good(string text) => Style("green", text);

        public string Bad(string text) => Style("red", text);

        public string Warn(string text) => Style("yellow", text);

        public string Segment(DiffKind kind, string text) => kind switch
        {
            DiffKind.Deleted => markup ? $"[red strikethrough]{Markup.Escape(text)}[/]" : $"[-{text}-]",
            DiffKind.Inserted => markup ? $"[green bold]{Markup.Escape(text)}[/]" : $"{{+{text}+}}",
            _ => Esc(text),
        };

        public override string ToString() => _text.ToString();

        private string Style(string style, string text) => markup ? $"[{style}]{Markup.Escape(text)}[/]" : text;
    }
}
