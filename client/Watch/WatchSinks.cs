using Spectre.Console;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Core.Text;
using SparOrleans.Interfaces.Prompts;

namespace SparOrleans.Client.Watch;

/// <summary>
/// Frames as text: redrawn in place with colours on a terminal; otherwise plain, each frame written only when it
/// differs from the previous one and followed by a blank line. Notes go to stderr.
/// </summary>
public sealed class TextWatchSink(TextWriter stdout, TextWriter stderr, bool terminal, WatchViewOptions? options = null) : IWatchSink
{
    private readonly IAnsiConsole? _console = terminal ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) }) : null;
    private string? _last;

    public void Frame(WatchFrame frame)
    {
        var text = WatchRenderer.Render(frame, markup: _console is not null, options);
        if (text == _last)
        {
            return;
        }
        _last = text;
        if (_console is not null)
        {
            _console.Clear();
            _console.Markup(text);
            return;
        }
        stdout.Write(text);
        stdout.WriteLine();
        stdout.Flush();
    }

    public void Note(string message)
    {
        _last = null;
        stderr.WriteLine(message);
    }
}

/// <summary>Frames as JSON, one object per line (snake_case, see <see cref="WatchJson"/>); notes go to stderr.</summary>
public sealed class JsonWatchSink(TextWriter stdout, TextWriter stderr) : IWatchSink
{
    public void Frame(WatchFrame frame)
    {
        CliOutput.WriteJson(stdout, WatchJson.From(frame));
        stdout.Flush();
    }

    public void Note(string message) => stderr.WriteLine(message);
}

/// <summary>
/// The JSON form of a frame: the run's status, the iteration overview, one row per prompt, and the selected prompt
/// with its samples and its tree as a flat node list (parent ids, votes, V, the diff from the parent as markers). Each
/// sample and node carries the judgment a view shows, and <c>verified</c>: the verifiers' verdict (null where unknown);
/// <c>no_negative</c> says why a finished prompt had no negative (snake_case of <see cref="NoNegativeReason"/>).
/// </summary>
public static class WatchJson
{
    public sealed record Frame(
        string RunId, string Status, string Phase, int Iteration, int Done, int Total, string Message, string? Error,
        bool Live, string Source, int ShownIteration, IterationOverview Overview, Throughput? Throughput,
        IReadOnlyList<PromptRow> Prompts, PromptView? Prompt);

    public sealed record PromptRow(string Key, string PromptId, string Phase, bool? HadNegative, bool? FoundWinner, int Expansions, int? WinnerDepth,
        string? NoNegative = null);

    public sealed record PromptView(
        string Key, string PromptId, string Phase, string? Instruction, IReadOnlyList<SampleView> Samples,
        string? Policy, int? WinnerId, string? EndReason, IReadOnlyList<NodeView> Nodes, int? RootSample = null);

    public sealed record SampleView(string Response, string? Majority, int Yes, int No, int Invalid, bool? Verified = null, string? Judgment = null);

    public sealed record NodeView(
        int Id, int ParentId, int Depth, string Status, string? Response, int? Yes, int? No, int? Invalid, double? Value,
        bool FromCache, string? Diff, int? ChangedWords, bool? Verified = null, string? Judgment = null);

    public static Frame From(WatchFrame frame)
    {
        var s = frame.Status;
        return new Frame(
            s.RunId, Lower(s.Status), Lower(s.Phase), s.Iteration, s.Done, s.Total, s.Message, s.Error, frame.Live, frame.Source,
            frame.Iteration, frame.Overview, frame.Throughput,
            [.. frame.Prompts.Select(p => new PromptRow(
                p.Key, WatchFrame.PromptId(p), Lower(p.Phase), p.Outcome?.HadNegative, p.Outcome?.FoundWinner,
                p.Search?.Expansions ?? 0, p.Outcome?.WinnerDepth, WatchFrame.WhyNoNegative(p) is { } why ? Lower(why) : null))],
            frame.Selected is { } selected ? Prompt(frame, selected) : null);
    }

    private static PromptView Prompt(WatchFrame frame, PromptSnapshot p) => new(
        p.Key, WatchFrame.PromptId(p), Lower(p.Phase), p.Prompt?.Instruction,
        [.. p.Samples.Select(s => new SampleView(s.Response, s.Vote.Majority?.ToString().ToLowerInvariant(), s.Vote.Yes, s.Vote.No, s.Vote.Invalid,
            frame.Follows(p, s.Response), WatchRenderer.ShownJudgment(s.Vote)?.Text))],
        p.Search is { } search ? Lower(search.Policy) : null, p.Search?.End?.WinnerId, p.Search?.End?.Reason,
        p.Search is { } tree ? [.. tree.Nodes.Select(n => Node(frame, p, tree, n))] : [],
        WatchFrame.RootSample(p));

    private static NodeView Node(WatchFrame frame, PromptSnapshot p, SearchState tree, SearchNode n)
    {
        var parent = n.Status == NodeStatus.Root ? null : tree.Nodes[n.ParentId].Response;
        var diff = parent is not null && n.Response is not null ? WordDiff.Compute(parent, n.Response) : null;
        return new NodeView(
            n.Id, n.ParentId, n.Depth, Lower(n.Status), n.Response, n.Vote?.Yes, n.Vote?.No, n.Vote?.Invalid, n.Value, n.FromCache,
            diff is null ? null : WordDiff.ToMarkers(diff), diff is null ? null : WordDiff.ChangedWords(diff),
            n.Response is { } text ? frame.Follows(p, text) : null, n.Judgment);
    }

    private static string Lower<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
