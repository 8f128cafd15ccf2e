using Spectre.Console;
using SparOrleans.Client.Watch;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Tests;

public sealed class WatchRendererTests
{
    private static Vote Votes(int yes, int no, int invalid = 0, int rounds = 1)
    {
        var verdicts = Enumerable.Repeat(Verdict.Yes, yes).Concat(Enumerable.Repeat(Verdict.No, no)).Concat(Enumerable.Repeat(Verdict.Invalid, invalid)).ToList();
        Verdict? majority = yes > no ? Verdict.Yes : no > yes ? Verdict.No : null;
        return new Vote([.. verdicts.Select(v => $"judged {v}")], verdicts, yes, no, invalid, majority,
            yes + no == 0 ? null : (double)yes / (yes + no), majority is null ? null : verdicts.IndexOf(majority.Value), rounds);
    }

    private static SearchNode Judged(int id, int parent, int depth, string response, Vote vote) =>
        new(id, parent, depth, 1, NodeStatus.Judged, SamplingHint.Sample, response, "refiner output", "kept", vote.Value, vote);

    /// <summary>A BFS tree: root → #1 (better), #2 (failed); #1 → #3 (winner), #4 (still expanding).</summary>
    private static SearchState Tree() => new(
        SearchPolicyKind.Bfs,
        new TreeSearchOptions(),
        VotingOptions.TreeSearch,
        "Write three short lines about cats, all lowercase.",
        [
            new SearchNode(0, 0, 0, 0, NodeStatus.Root, SamplingHint.Sample, "Cats sleep all day.\nThey Purr a lot.", Value: 0.2, Vote: Votes(1, 4)),
            Judged(1, 0, 1, "cats sleep all day.\nThey Purr a lot.", Votes(3, 2)),
            new SearchNode(2, 0, 1, 1, NodeStatus.Failed, SamplingHint.Sample),
            Judged(3, 1, 2, "cats sleep all day.\nthey purr a lot.\ncats are soft.", Votes(5, 0, invalid: 1, rounds: 2)),
            new SearchNode(4, 1, 2, 2, NodeStatus.Pending, SamplingHint.Sample),
        ],
        [],
        2,
        new Dictionary<string, CachedValue>(),
        new SearchEnd(3, 3, "winner found"));

    private static PromptSnapshot Prompt(string id, PromptPhase phase, SearchState? search, PromptOutcome? outcome) => new(
        $"run-a/1/{id}", phase, new PromptSpec(id, "Write three short lines about cats, all lowercase.", ["change_case:english_lowercase"], ["{}"]),
        [new JudgedSample("Cats sleep all day.\nThey Purr a lot.", Votes(1, 4)), new JudgedSample("cats sleep all day in the warm sun and purr when they are happy.", Votes(4, 1))],
        search, outcome);

    private static PromptOutcome Outcome(string id, bool negative, bool winner, int expansions) =>
        new(id, negative, winner, expansions, winner ? 2 : null, null, [], []);

    /// <summary>The prompt with every sample judged right (so it has no negative), as stored before reasons were.</summary>
    private static PromptSnapshot AllYes(PromptSnapshot p)
    {
        List<JudgedSample> judged = [.. p.Samples.Select(s => s with { Vote = Votes(4, 1) })];
        return p with { Samples = judged, Outcome = p.Outcome! with { Judged = judged } };
    }

    /// <summary>A finished prompt whose every judgment lacked a verdict (<paramref name="stored"/>: with the reason recorded).</summary>
    private static PromptSnapshot AllInvalid(string id, bool stored)
    {
        List<JudgedSample> judged = [new("Cats sleep.", Votes(0, 0, invalid: 3)), new("cats nap", Votes(0, 0, invalid: 3))];
        var outcome = Outcome(id, false, false, 0) with { Judged = judged, NoNegative = stored ? NoNegativeReason.AllVotesInvalid : null };
        return Prompt(id, PromptPhase.Done, null, outcome) with { Samples = judged };
    }

    private static readonly RunSpec Spec = new("run-a", "/tmp/run-a", 1, 3, 6, "bfs", "quick", "{}", 2);

    /// <summary>The frame with the run's real verifiers: lowercase text follows the prompts' one constraint.</summary>
    private static WatchFrame Verified(WatchFrame frame) =>
        frame with { Status = frame.Status with { Spec = Spec }, Verifier = new Silo.Runs.RunResponseVerifier() };

    private static WatchFrame Frame(PromptSnapshot? selected = null, Throughput? throughput = null)
    {
        var searching = Prompt("p-1", PromptPhase.Searching, Tree() with { End = null }, null);
        var prompts = new List<PromptSnapshot>
        {
            Prompt("p-0", PromptPhase.Done, Tree(), Outcome("p-0", true, true, 4)),
            searching,
            AllYes(Prompt("p-2", PromptPhase.Done, null, Outcome("p-2", false, false, 0))),
            Prompt("p-3", PromptPhase.Done, Tree() with { End = new SearchEnd(null, 1, "budget spent") }, Outcome("p-3", true, false, 4)),
            Prompt("p-4", PromptPhase.Judged, null, null),
        };
        var status = new RunStatus("run-a", RunStatusKind.Running, RunPhase.Search, 1, 3, 5, "searching trees", [], null,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);
        return new WatchFrame(status, 1, 6, prompts, selected ?? prompts[0], throughput, "live: test");
    }

    [Fact]
    public void Render_PlainTree_ShowsEachNodeWithVotesValueDepthAndWordDiff()
    {
        var text = WatchRenderer.Render(Frame(), markup: false);

        Assert.Contains("#0 root (sample #0) · depth 0 · Yes 1 / No 4 · V 0.20", text);
        Assert.Contains("├─ #1 · depth 1 · Yes 3 / No 2 · V 0.60", text);
        Assert.Contains("[-Cats-]{+cats+} sleep all day.", text);
        Assert.Contains("│  ├─ #3 · depth 2 · Yes 5 / No 0 / invalid 1 (2 rounds) · V 1.00 · WINNER", text);
        Assert.Contains("[-They Purr-]{+they purr+} a lot.", text);
        Assert.Contains("{+cats are soft.+}", text);
        Assert.Contains("│  └─ #4 · depth 2 · expanding...", text);
        Assert.Contains("└─ #2 · depth 1 · failed: no refined text", text);
        Assert.Contains("ended: winner #3 (winner found)", text);
        // The root shows its whole text, not a diff.
        Assert.Contains("   Cats sleep all day.\n", text);
    }

    [Fact]
    public void Render_Overview_CountsPromptsByStateAndSumsExpansions()
    {
        var text = WatchRenderer.Render(Frame(throughput: new Throughput(12, 0.5)), markup: false);

        Assert.Contains("iteration 1: 6 prompts · done 3 · in search 1 · with winner 1 · failed 1 · no negative 1 · waiting 2", text);
        Assert.Contains("expansions 12 · 0.50 expansions/s · 12.0 prompts/min", text);
        Assert.Contains("run run-a · running · iteration 1 · refining negatives (tree search) 3/5 · searching trees", text);
        Assert.Contains("p-2  done · no negative (every sample judged right)", text);
        Assert.Contains("p-3  done · no winner · 4 expansions", text);
        Assert.Contains("> p-0  done · winner at depth 2 · 4 expansions", text);
        // Prompts in search are listed first.
        Assert.True(text.IndexOf("p-1  searching", StringComparison.Ordinal) < text.IndexOf("p-0  done", StringComparison.Ordinal));
        Assert.Contains("  #0 no Yes 1 / No 4 · ROOT: the negative the tree refines\n     judgment: judged No\n", text);
        Assert.Contains("  #1 yes Yes 4 / No 1\n     judgment: judged Yes\n", text);
    }

    [Fact]
    public void Render_LiveRunWithoutThroughputYet_SaysItIsMeasuring()
    {
        var frame = Frame() with { Live = true };
        Assert.Contains("expansions 12 · throughput: measuring", WatchRenderer.Render(frame, markup: false));
        Assert.Contains("expansions 12\n", WatchRenderer.Render(frame with { Live = false }, markup: false));
    }

    [Fact]
    public void Render_Markup_IsValidSpectreMarkupWithColouredEdits()
    {
        var frame = Frame();
        var markup = WatchRenderer.Render(frame with { Selected = frame.Prompts[0] with { Prompt = frame.Prompts[0].Prompt! with { Instruction = "use [brackets] safely" } } }, markup: true);

        Assert.Contains("[red strikethrough]Cats[/][green bold]cats[/]", markup);
        Assert.Contains("[[brackets]]", markup);
        // Spectre parses it (an unbalanced or unknown tag would throw), and the text reads as the plain view.
        var written = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(written) });
        console.Profile.Width = 400;
        console.Markup(markup);
        Assert.Contains("│  ├─ #3 · depth 2 · Yes 5 / No 0", written.ToString());
        Assert.Contains("use [brackets] safely", written.ToString());
    }

    [Fact]
    public void Render_LongUnchangedText_KeepsOnlyContextAroundTheEdit()
    {
        var words = string.Join(' ', Enumerable.Range(0, 40).Select(i => $"w{i}"));
        var tree = Tree() with
        {
            Nodes =
            [
                new SearchNode(0, 0, 0, 0, NodeStatus.Root, SamplingHint.Sample, words + " old", Value: 0, Vote: Votes(0, 5)),
                Judged(1, 0, 1, words + " new", Votes(5, 0)),
            ],
            End = new SearchEnd(1, 1, "winner found"),
        };
        var frame = Frame();
        var text = WatchRenderer.Render(frame with { Selected = frame.Prompts[0] with { Search = tree } }, markup: false, new WatchViewOptions(ContextWords: 3));

        Assert.Contains("... w37 w38 w39 [-old-]{+new+}", text);
        Assert.DoesNotContain("w10 w11", text[text.IndexOf("─ #1", StringComparison.Ordinal)..]);
    }

    [Fact]
    public void Render_Bootstrapping_SaysThereAreNoPromptsYet()
    {
        var frame = Frame();
        var text = WatchRenderer.Render(frame with { Iteration = 0, Prompts = [], PromptCount = 0, Selected = null }, markup: false);
        Assert.Contains("no prompts yet", text);
    }

    [Theory]
    [InlineData("p-3", "p-3")]
    [InlineData("run-a/1/p-2", "p-2")]
    [InlineData(null, "p-1")]
    public void SelectPrompt_ByIdKeyOrDefault_PicksTheExpectedPrompt(string? requested, string expected) =>
        Assert.Equal(expected, WatchFrame.PromptId(WatchFrame.SelectPrompt(Frame().Prompts, requested)!));

    [Fact]
    public void SelectPrompt_UnknownId_IsAUserErrorListingThePrompts()
    {
        var e = Assert.Throws<Core.Errors.UserInputException>(() => WatchFrame.SelectPrompt(Frame().Prompts, "nope"));
        Assert.Contains("p-0, p-1", e.Message);
    }

    [Fact]
    public void ThroughputMeter_TwoObservations_AveragesSinceTheFirstAndRestartsOnANewIteration()
    {
        var meter = new ThroughputMeter();
        var t0 = DateTimeOffset.UnixEpoch;
        Assert.Null(meter.Observe(t0, 1, 0, 0));
        Assert.Equal(new Throughput(6, 0.5), meter.Observe(t0.AddSeconds(20), 1, 2, 10));
        Assert.Null(meter.Observe(t0.AddSeconds(30), 2, 0, 0));
        Assert.Equal(new Throughput(60, 3), meter.Observe(t0.AddSeconds(40), 2, 10, 30));
    }

    [Fact]
    public void Html_Tree_ShowsNodesVotesAndEscapedDiffs()
    {
        var frame = Frame();
        var selected = frame.Prompts[0] with { Prompt = frame.Prompts[0].Prompt! with { Instruction = "say <b>hi</b> & bye" } };
        var html = WatchHtml.Render(frame with { Selected = selected, Live = true }, id => $"/runs/run-a?prompt={id}");

        Assert.Contains("<li class=\"node judged\" id=\"node-1\"><div class=\"head\">#1 · depth 1 · <span class=\"votes\">Yes 3 / No 2</span> · V 0.60</div>", html);
        Assert.Contains("<li class=\"node judged winner\" id=\"node-3\">", html);
        Assert.Contains("<del>Cats</del><ins>cats</ins> sleep all day.", html);
        Assert.Contains("#4 · depth 2 · expanding...", html);
        Assert.Contains("say &lt;b&gt;hi&lt;/b&gt; &amp; bye", html);
        Assert.Contains("href=\"/runs/run-a?prompt=p-3\"", html);
        Assert.Contains("<meta http-equiv=\"refresh\"", html);
        Assert.DoesNotContain("http-equiv=\"refresh\"", WatchHtml.Render(frame, id => id));
    }

    [Fact]
    public void Render_WithVerifiers_ShowsTheirVerdictBesideEachVoteAndEachJudgment()
    {
        var text = WatchRenderer.Render(Verified(Frame()), markup: false);

        Assert.Contains("  #0 no Yes 1 / No 4 · verifiers: fail · ROOT: the negative the tree refines\n     judgment: judged No\n", text);
        Assert.Contains("  #1 yes Yes 4 / No 1 · verifiers: pass\n", text);
        Assert.Contains("#0 root (sample #0) · depth 0 · Yes 1 / No 4 · V 0.20 · verifiers: fail", text);
        Assert.Contains("├─ #1 · depth 1 · Yes 3 / No 2 · V 0.60 · verifiers: FAIL (judge disagrees)", text);
        Assert.Contains("│  ├─ #3 · depth 2 · Yes 5 / No 0 / invalid 1 (2 rounds) · V 1.00 · verifiers: pass · WINNER", text);
        // p-0's winner (#3) passes; p-3 ended without one.
        Assert.Contains("with winner 1 (1 pass the verifiers) · failed 1", text);
        // Each judged node shows the judgment its vote kept, under its text.
        Assert.Contains("│     judgment: kept", text);
    }

    [Fact]
    public void Render_WinnerTheVerifiersFail_IsMarkedAsFailingInTextAndHtml()
    {
        var frame = Verified(Frame());
        var selected = frame.Prompts[0] with { Search = Tree() with { End = new SearchEnd(1, 1, "winner found") } };
        frame = frame with { Prompts = [selected, .. frame.Prompts.Skip(1)], Selected = selected };

        var text = WatchRenderer.Render(frame, markup: false);
        var html = WatchHtml.Render(frame, id => id);

        Assert.Contains("#1 · depth 1 · Yes 3 / No 2 · V 0.60 · verifiers: FAIL (judge disagrees) · WINNER, but it fails the verifiers", text);
        Assert.Contains("<li class=\"node judged winner fails-verifiers\" id=\"node-1\">", html);
        Assert.Contains("<strong class=\"bad\">WINNER, but it fails the verifiers</strong>", html);
        Assert.Contains("with winner 1 (0 pass the verifiers)", text);
        Assert.Contains("<td class=\"good\">1 <small>(0 pass the verifiers)</small></td>", html);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Render_AllVotesInvalid_IsReportedAsSuchNotAsSamplesJudgedRight(bool stored)
    {
        var frame = Frame();
        var invalid = AllInvalid("p-5", stored);
        frame = frame with { Prompts = [.. frame.Prompts, invalid], Selected = invalid };

        var text = WatchRenderer.Render(frame, markup: false);
        var html = WatchHtml.Render(frame, id => id);

        Assert.Contains("no negative 2 (all votes invalid 1) · waiting", text);
        Assert.Contains("p-5  done · no negative: all votes invalid: no judgment had a verdict", text);
        Assert.Contains("  #0 no verdict Yes 0 / No 0 / invalid 3\n     judgment (no verdict): judged Invalid\n", text);
        Assert.Contains("<th>all votes invalid</th>", html);
        Assert.Contains("<td class=\"bad\">1</td>", html);
        Assert.Contains("no negative to refine (all votes invalid: no judgment had a verdict).", html);
        Assert.Contains("<small>no negative: all votes invalid</small>", html);
    }

    [Fact]
    public void Html_Samples_ShowVerdictsJudgmentsRootAndReadablePhase()
    {
        var frame = Verified(Frame());
        var html = WatchHtml.Render(frame, id => id);

        Assert.Contains("<li class=\"root-sample\"><span class=\"votes\">Yes 1 / No 4</span> · <span class=\"verifiers bad\">verifiers: fail</span> · <strong class=\"root\">ROOT: the negative the tree refines</strong>", html);
        Assert.Contains("<li><span class=\"votes\">Yes 4 / No 1</span> · <span class=\"verifiers good\">verifiers: pass</span>", html);
        Assert.Contains("<details class=\"judgment\" open><summary>judgment</summary><pre>judged No</pre></details>", html);
        Assert.Contains("#0 root (sample #0) · depth 0", html);
        Assert.Contains("V 0.60 · <span class=\"verifiers disagree bad\">verifiers: FAIL (judge disagrees)</span>", html);
        Assert.Contains("<summary>judgment</summary><pre>kept</pre>", html);
        Assert.Contains("iteration 1 of 3 · refining negatives (tree search) 3/5", html);
        Assert.Contains("title=\"judged, waiting for its search\"", html);
    }

    [Fact]
    public void Json_CarriesVerdictsJudgmentsRootAndNoNegativeReason()
    {
        var frame = Verified(Frame());
        var json = WatchJson.From(frame with { Prompts = [.. frame.Prompts, AllInvalid("p-5", stored: true)] });

        Assert.Equal(0, json.Prompt!.RootSample);
        Assert.Equal([false, true], json.Prompt.Samples.Select(s => s.Verified));
        Assert.Equal("judged No", json.Prompt.Samples[0].Judgment);
        Assert.Equal(false, json.Prompt.Nodes[1].Verified);
        Assert.Equal("kept", json.Prompt.Nodes[1].Judgment);
        Assert.Equal("all_votes_invalid", json.Prompts.Single(p => p.PromptId == "p-5").NoNegative);
        Assert.Equal("all_judged_yes", json.Prompts.Single(p => p.PromptId == "p-2").NoNegative);
    }

    [Fact]
    public void StoredStateFromBeforeTheNewFields_StillReadsAndTheViewsDeriveRootAndReason()
    {
        // A prompt state as stored before RootSample and PromptOutcome.NoNegative existed: the same JSON without them.
        var searched = Frame().Prompts[0];
        var state = new Grains.Prompts.PromptGrain.PromptState
        {
            Phase = PromptPhase.Done, Prompt = searched.Prompt, Judged = [.. searched.Samples], Search = searched.Search, RootSample = 0,
            Outcome = Outcome("p-0", true, true, 4) with { NoNegative = NoNegativeReason.AllJudgedYes },
        };
        var json = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(state, Storage.GrainStateJson.Options))!.AsObject();
        Assert.True(json.Remove("RootSample"));
        Assert.True(json["Outcome"]!.AsObject().Remove("NoNegative"));

        var old = System.Text.Json.JsonSerializer.Deserialize<Grains.Prompts.PromptGrain.PromptState>(json, Storage.GrainStateJson.Options)!.Snapshot("run-a/1/p-0");

        Assert.Null(old.RootSample);
        Assert.Null(old.Outcome!.NoNegative);
        Assert.Equal(0, WatchFrame.RootSample(old));
        var invalid = AllInvalid("p-5", stored: false);
        Assert.Equal(NoNegativeReason.AllVotesInvalid, WatchFrame.WhyNoNegative(invalid));
    }

    [Fact]
    public void PhaseTable_CountsPromptsWhoseVotesWereAllInvalidApart()
    {
        var scores = new ActorScores(0.4, 0.7, 0.4, 0.7);
        var judge = new JudgeScores(0.5, 0.6);
        IterationReport Row(int t, int negatives, int invalid) =>
            new(t, scores, judge, null, null, 0, 0, 1, new Dictionary<string, double> { ["judging"] = 2 }, 12, negatives, 0, invalid);
        var written = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(written) });
        console.Profile.Width = 200;

        console.Write(Runs.RunSummary.PhaseTable([Row(0, 0, 0), Row(1, 0, 12), Row(2, 5, 3)]));

        var lines = written.ToString().Split('\n');
        Assert.Contains("no verdict", lines.Single(l => l.Contains("negatives", StringComparison.Ordinal)));
        Assert.Matches(@"│\s+1 │\s+12 │\s+0 │\s+0 │\s+12 │", string.Join('\n', lines));
        Assert.Matches(@"│\s+2 │\s+12 │\s+5 │\s+0 │\s+3 │", string.Join('\n', lines));
    }
}
