using System.Globalization;
using System.Net;
using System.Text;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Core.Text;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>
/// The read-only web page of a run: the same view as <c>spar watch</c> (overview, prompt list, the selected
/// prompt's samples with their votes, the verifiers' verdicts, their judgments and the root marked, and its tree with
/// votes, V, verifiers' verdicts, depth, judgments and word diffs as &lt;del&gt;/&lt;ins&gt;), one self-contained HTML document
/// that reloads itself every <c>refreshSeconds</c> while the run runs. Pure: no I/O.
/// </summary>
public static class WatchHtml
{
    /// <param name="link">Builds the page's address for another prompt id (the prompt list links to it).</param>
    public static string Render(WatchFrame frame, Func<string, string> link, int refreshSeconds = 2)
    {
        var s = frame.Status;
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (frame.Live && s.Status is RunStatusKind.Running or RunStatusKind.Created)
        {
            h.Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"refresh\" content=\"{refreshSeconds}\">");
        }
        h.Append(CultureInfo.InvariantCulture, $"<title>spar · {E(s.RunId)}</title><style>{Style}</style></head><body>\n");
        var iteration = frame.Iteration > 0 ? frame.Iteration : s.Iteration;
        var of = s.Spec is { } spec ? $" of {spec.Iterations}" : "";
        var progress = s.Total > 0 ? $" {s.Done}/{s.Total}" : "";
        h.Append(CultureInfo.InvariantCulture, $"<h1>run {E(s.RunId)} <span class=\"status {Lower(s.Status)}\">{Lower(s.Status)}</span></h1>\n");
        h.Append(CultureInfo.InvariantCulture, $"<p class=\"phase\">iteration {iteration}{of} · {E(PhaseNames.Of(s.Phase))}{progress} · {E(s.Message)}</p>\n");
        h.Append(CultureInfo.InvariantCulture, $"<p class=\"source\">{E(frame.Source)}</p>\n");
        if (s.Error is not null)
        {
            h.Append(CultureInfo.InvariantCulture, $"<p class=\"error\">error: {E(s.Error)}</p>\n");
        }
        if (frame.Iteration == 0)
        {
            h.Append("<p>No prompts yet: the run is bootstrapping its models.</p>\n</body></html>\n");
            return h.ToString();
        }
        var o = frame.Overview;
        h.Append("<table class=\"overview\"><tr><th>prompts</th><th>done</th><th>in search</th><th>with winner</th><th>failed</th><th>no negative</th><th>all votes invalid</th><th>waiting</th><th>expansions</th></tr>");
        h.Append(CultureInfo.InvariantCulture, $"<tr><td>{o.Prompts}</td><td>{o.Done}</td><td>{o.InSearch}</td><td class=\"good\">{o.WithWinner}{(frame.VerifiedWinners is { } verified ? $" <small>({verified} pass the verifiers)</small>" : "")}</td><td class=\"bad\">{o.Failed}</td><td>{o.NoNegative}</td><td class=\"{(o.NoVerdict > 0 ? "bad" : "")}\">{o.NoVerdict}</td><td>{o.Waiting}</td><td>{o.Expansions}</td></tr></table>\n");
        h.Append("<nav class=\"prompts\">");
        foreach (var p in frame.Prompts)
        {
            var id = WatchFrame.PromptId(p);
            var selected = p.Key == frame.Selected?.Key ? " class=\"selected\"" : "";
            h.Append(CultureInfo.InvariantCulture, $"<a{selected} href=\"{E(link(id))}\" title=\"{E(PhaseNames.Of(p.Phase))}\">{E(id)} <small>{PromptState(p)}</small></a> ");
        }
        h.Append("</nav>\n");
        if (frame.Selected is { } prompt)
        {
            Prompt(h, frame, prompt);
        }
        h.Append("</body></html>\n");
        return h.ToString();
    }

    private static void Prompt(StringBuilder h, WatchFrame frame, PromptSnapshot p)
    {
        h.Append(CultureInfo.InvariantCulture, $"<section class=\"prompt\"><h2>prompt {E(WatchFrame.PromptId(p))} <small>{PromptState(p)}</small></h2>\n");
        if (p.Prompt is { } spec)
        {
            h.Append(CultureInfo.InvariantCulture, $"<blockquote class=\"instruction\">{E(spec.Instruction)}</blockquote>\n");
        }
        if (p.Samples.Count > 0)
        {
            h.Append("<ol class=\"samples\" start=\"0\">");
            var root = WatchFrame.RootSample(p);
            for (var i = 0; i < p.Samples.Count; i++)
            {
                var sample = p.Samples[i];
                h.Append(root == i ? "<li class=\"root-sample\">" : "<li>");
                h.Append(CultureInfo.InvariantCulture, $"<span class=\"votes\">{E(WatchRenderer.Votes(sample.Vote))}</span>");
                h.Append(Verified(frame.Follows(p, sample.Response), sample.Vote.Majority));
                if (root == i)
                {
                    h.Append(" · <strong class=\"root\">ROOT: the negative the tree refines</strong>");
                }
                h.Append(CultureInfo.InvariantCulture, $"<pre>{E(sample.Response)}</pre>");
                if (WatchRenderer.ShownJudgment(sample.Vote) is { } judgment)
                {
                    h.Append(Judgment(judgment.Label, judgment.Text));
                }
                h.Append("</li>");
            }
            h.Append("</ol>\n");
        }
        if (p.Search is not { } search)
        {
            h.Append("<p class=\"none\">No tree: ").Append(p.Phase < PromptPhase.Judged ? "the prompt is being sampled and judged."
                : WatchFrame.WhyNoNegative(p) is { } why ? $"no negative to refine ({E(NegativeSelection.Describe(why))})." : "no negative to refine.").Append("</p></section>\n");
            return;
        }
        var end = search.End is { } e ? $" · ended: {(e.WinnerId is { } w ? $"winner #{w}" : "no winner")} ({E(e.Reason)})" : "";
        h.Append(CultureInfo.InvariantCulture, $"<p class=\"tree-info\">{Lower(search.Policy)} · {search.Nodes.Count} nodes · step {search.Step}{end}</p>\n<ul class=\"tree\">");
        var children = search.Nodes.Where(n => n.Id != 0).ToLookup(n => n.ParentId);
        Node(h, frame, p, search, search.Root, children);
        h.Append("</ul></section>\n");
    }

    private static void Node(StringBuilder h, WatchFrame frame, PromptSnapshot p, SearchState search, SearchNode node, ILookup<int, SearchNode> children)
    {
        var winner = search.End?.WinnerId == node.Id;
        var follows = node.Response is { } text ? frame.Follows(p, text) : null;
        var root = node.Status != NodeStatus.Root ? "" : WatchFrame.RootSample(p) is { } sample ? $" root (sample #{sample})" : " root";
        var failsVerifiers = winner && follows == false ? " fails-verifiers" : "";
        h.Append(CultureInfo.InvariantCulture, $"<li class=\"node {Lower(node.Status)}{(winner ? " winner" : "")}{failsVerifiers}\" id=\"node-{node.Id}\"><div class=\"head\">#{node.Id}{root} · depth {node.Depth}");
        h.Append(node.Status switch
        {
            NodeStatus.Pending => " · expanding...",
            NodeStatus.Failed => " · failed: no refined text",
            NodeStatus.Discarded => " · discarded: tied vote",
            _ => "",
        });
        if (node.Vote is { } vote)
        {
            h.Append(" · <span class=\"votes\">").Append(E(WatchRenderer.Votes(vote))).Append("</span>");
        }
        if (node.Value is { } v && node.Status is NodeStatus.Judged or NodeStatus.Root)
        {
            h.Append(" · V ").Append(v.ToString("F2", CultureInfo.InvariantCulture));
        }
        if (node.Status is NodeStatus.Judged or NodeStatus.Root)
        {
            h.Append(Verified(follows, node.Status == NodeStatus.Root ? Verdict.No : node.Vote?.Majority));
        }
        if (winner)
        {
            // The judge's winner is DPO's chosen response: one the verifiers fail is a wrong label, not a success.
            h.Append(follows == false ? " · <strong class=\"bad\">WINNER, but it fails the verifiers</strong>" : " · <strong>WINNER</strong>");
        }
        h.Append("</div>");
        if (node.Response is { } response)
        {
            h.Append("<pre class=\"text\">");
            var parent = node.Status == NodeStatus.Root ? null : search.Nodes[node.ParentId].Response;
            foreach (var segment in parent is null ? [new DiffSegment(DiffKind.Equal, response)] : WordDiff.Compute(parent, response))
            {
                h.Append(segment.Kind switch
                {
                    DiffKind.Deleted => $"<del>{E(segment.Text)}</del>",
                    DiffKind.Inserted => $"<ins>{E(segment.Text)}</ins>",
                    _ => E(segment.Text),
                });
            }
            h.Append("</pre>");
        }
        if (node.Judgment is { } judgment && node.Status is NodeStatus.Root or NodeStatus.Judged)
        {
            h.Append(Judgment("judgment", judgment));
        }
        var kids = children[node.Id].OrderBy(n => n.Id).ToList();
        if (kids.Count > 0)
        {
            h.Append("<ul>");
            foreach (var kid in kids)
            {
                Node(h, frame, p, search, kid, children);
            }
            h.Append("</ul>");
        }
        h.Append("</li>");
    }

    private static string PromptState(PromptSnapshot p) => p.Outcome switch
    {
        { HadNegative: false } => WatchFrame.WhyNoNegative(p) == NoNegativeReason.AllVotesInvalid ? "no negative: all votes invalid" : "no negative",
        { FoundWinner: true, WinnerDepth: var depth } => $"winner at depth {depth ?? 0}",
        { } => "no winner",
        null => E(PhaseNames.Of(p.Phase)),
    };

    /// <summary>The verifiers' verdict beside a vote, flagged where it contradicts the judge's majority.</summary>
    private static string Verified(bool? follows, Verdict? majority) => VerifierNote.Of(follows, majority) is { } note
        ? $" · <span class=\"verifiers{(note.Disagrees ? " disagree" : "")}{(!note.Passes ? " bad" : note.Disagrees ? "" : " good")}\">{note.Text}</span>"
        : "";

    private static string Judgment(string label, string text) =>
        $"<details class=\"judgment\" open><summary>{E(label)}</summary><pre>{E(text.Trim())}</pre></details>";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
        h1 .status{font-size:60%;padding:.1em .5em;border-radius:1em;background:#eee}
        .completed{background:#d7f5dd!important}.failed{background:#fbd5d5!important}
        .source{color:#777}.error,.bad{color:#b00}.good{color:#070}
        table.overview{border-collapse:collapse}table.overview td,table.overview th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
        nav.prompts{margin:1em 0;display:flex;flex-wrap:wrap;gap:.3em}
        nav.prompts a{border:1px solid #ccc;border-radius:.3em;padding:.1em .4em;text-decoration:none;color:#224}
        nav.prompts a.selected{background:#224;color:#fff}
        blockquote{margin:.5em 0;padding:.3em .8em;border-left:3px solid #99c;background:#f5f5fb}
        pre{white-space:pre-wrap;margin:.2em 0 .6em;font:13px/1.35 ui-monospace,monospace}
        ul.tree,ul.tree ul{list-style:none;padding-left:1.4em;border-left:1px dashed #bbb}
        .node .head{font-weight:600}.node.winner>.head{color:#070}.node.failed>.head,.node.discarded>.head{color:#999}
        del{background:#fdd;color:#900}ins{background:#dfd;color:#060;text-decoration:none}
        .votes{font-weight:normal;color:#335}
        .verifiers{font-weight:normal}.disagree{background:#fff3c4;padding:0 .2em}
        .root-sample{outline:2px solid #c90;outline-offset:2px}.root{color:#960}
        .node.winner.fails-verifiers>.head{color:#b00}
        details.judgment{margin:0 0 .6em;color:#446}details.judgment summary{cursor:pointer;font-size:90%}
        details.judgment pre{background:#f6f6f6;padding:.2em .4em}
        """;
}
