using System.Globalization;
using System.Net;
using System.Text;
using SparOrleans.Core.Search;
using SparOrleans.Core.Text;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>
/// The read-only web page of a run: the same view as <c>spar watch</c> (overview, prompt list, the selected
/// prompt's tree with votes, V, depth and word diffs as &lt;del&gt;/&lt;ins&gt;), one self-contained HTML document
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
        h.Append(CultureInfo.InvariantCulture, $"<p class=\"phase\">iteration {iteration}{of} · {E(Lower(s.Phase))}{progress} · {E(s.Message)}</p>\n");
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
        h.Append("<table class=\"overview\"><tr><th>prompts</th><th>done</th><th>in search</th><th>with winner</th><th>failed</th><th>no negative</th><th>waiting</th><th>expansions</th></tr>");
        h.Append(CultureInfo.InvariantCulture, $"<tr><td>{o.Prompts}</td><td>{o.Done}</td><td>{o.InSearch}</td><td class=\"good\">{o.WithWinner}</td><td class=\"bad\">{o.Failed}</td><td>{o.NoNegative}</td><td>{o.Waiting}</td><td>{o.Expansions}</td></tr></table>\n");
        h.Append("<nav class=\"prompts\">");
        foreach (var p in frame.Prompts)
        {
            var id = WatchFrame.PromptId(p);
            var selected = p.Key == frame.Selected?.Key ? " class=\"selected\"" : "";
            h.Append(CultureInfo.InvariantCulture, $"<a{selected} href=\"{E(link(id))}\" title=\"{E(Lower(p.Phase))}\">{E(id)} <small>{PromptState(p)}</small></a> ");
        }
        h.Append("</nav>\n");
        if (frame.Selected is { } prompt)
        {
            Prompt(h, prompt);
        }
        h.Append("</body></html>\n");
        return h.ToString();
    }

    private static void Prompt(StringBuilder h, PromptSnapshot p)
    {
        h.Append(CultureInfo.InvariantCulture, $"<section class=\"prompt\"><h2>prompt {E(WatchFrame.PromptId(p))} <small>{PromptState(p)}</small></h2>\n");
        if (p.Prompt is { } spec)
        {
            h.Append(CultureInfo.InvariantCulture, $"<blockquote class=\"instruction\">{E(spec.Instruction)}</blockquote>\n");
        }
        if (p.Samples.Count > 0)
        {
            h.Append("<ol class=\"samples\" start=\"0\">");
            foreach (var sample in p.Samples)
            {
                h.Append(CultureInfo.InvariantCulture, $"<li><span class=\"votes\">{E(WatchRenderer.Votes(sample.Vote))}</span><pre>{E(sample.Response)}</pre></li>");
            }
            h.Append("</ol>\n");
        }
        if (p.Search is not { } search)
        {
            h.Append("<p class=\"none\">No tree: ").Append(p.Phase < PromptPhase.Judged ? "the prompt is being sampled and judged." : "no negative to refine.").Append("</p></section>\n");
            return;
        }
        var end = search.End is { } e ? $" · ended: {(e.WinnerId is { } w ? $"winner #{w}" : "no winner")} ({E(e.Reason)})" : "";
        h.Append(CultureInfo.InvariantCulture, $"<p class=\"tree-info\">{Lower(search.Policy)} · {search.Nodes.Count} nodes · step {search.Step}{end}</p>\n<ul class=\"tree\">");
        var children = search.Nodes.Where(n => n.Id != 0).ToLookup(n => n.ParentId);
        Node(h, search, search.Root, children);
        h.Append("</ul></section>\n");
    }

    private static void Node(StringBuilder h, SearchState search, SearchNode node, ILookup<int, SearchNode> children)
    {
        var winner = search.End?.WinnerId == node.Id;
        h.Append(CultureInfo.InvariantCulture, $"<li class=\"node {Lower(node.Status)}{(winner ? " winner" : "")}\" id=\"node-{node.Id}\"><div class=\"head\">#{node.Id}{(node.Status == NodeStatus.Root ? " root" : "")} · depth {node.Depth}");
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
        if (winner)
        {
            h.Append(" · <strong>WINNER</strong>");
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
        var kids = children[node.Id].OrderBy(n => n.Id).ToList();
        if (kids.Count > 0)
        {
            h.Append("<ul>");
            foreach (var kid in kids)
            {
                Node(h, search, kid, children);
            }
            h.Append("</ul>");
        }
        h.Append("</li>");
    }

    private static string PromptState(PromptSnapshot p) => p.Outcome switch
    {
        { HadNegative: false } => "no negative",
        { FoundWinner: true, WinnerDepth: var depth } => $"winner at depth {depth ?? 0}",
        { } => "no winner",
        null => Lower(p.Phase),
    };

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
        """;
}
