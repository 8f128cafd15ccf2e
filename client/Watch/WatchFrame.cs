using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Negatives;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>
/// Everything one frame of <c>spar watch</c> shows: the run's status, the iteration on view with its prompts'
/// snapshots (as many as exist; <see cref="PromptCount"/> counts the iteration's keys), the prompt whose tree is drawn,
/// the measured throughput (null until two observations), and where the data came from (<see cref="Source"/>).
/// </summary>
public sealed record WatchFrame(
    RunStatus Status,
    int Iteration,
    int PromptCount,
    IReadOnlyList<PromptSnapshot> Prompts,
    PromptSnapshot? Selected,
    Throughput? Throughput,
    string Source)
{
    /// <summary>True when the frame came from a running silo, false when read from stored state.</summary>
    public bool Live { get; init; }

    /// <summary>
    /// The run's ground truth (<see cref="IResponseVerifier"/>, the silo's seam: the world's checks in the simulator,
    /// IFEval's for real prompts), shown beside each vote; null shows none. Never used for anything but display.
    /// </summary>
    public IResponseVerifier? Verifier { get; init; }

    public IterationOverview Overview => IterationOverview.From(Prompts, PromptCount);

    /// <summary>Whether <paramref name="response"/> follows the prompt by the verifiers; null where unknown.</summary>
    public bool? Follows(PromptSnapshot prompt, string response) =>
        Verifier is { } verifier && Status.Spec is { } spec && prompt.Prompt is { } p ? verifier.Follows(spec, p, response) : null;

    /// <summary>
    /// Prompts whose tree's winner follows its prompt by the verifiers; null without a verifier. Beside the winner count
    /// it tells how many of the judge's winners are right (DPO's chosen responses).
    /// </summary>
    public int? VerifiedWinners => Verifier is null || Status.Spec is null
        ? null
        : Prompts.Count(p => p.Search?.Winner?.Response is { } winner && Follows(p, winner) == true);

    /// <summary>
    /// The sample that became the tree's root: as stored, or (state from before it was stored) the first majority-No
    /// sample with the root's text; null without a tree.
    /// </summary>
    public static int? RootSample(PromptSnapshot prompt)
    {
        if (prompt.RootSample is { } stored)
        {
            return stored;
        }
        if (prompt.Search?.Root.Response is not { } root)
        {
            return null;
        }
        var index = prompt.Samples.ToList().FindIndex(s => s.Vote.Majority == Verdict.No && s.Response == root);
        return index < 0 ? null : index;
    }

    /// <summary>Why a finished prompt had no negative; null while it runs or when it had one.</summary>
    public static NoNegativeReason? WhyNoNegative(PromptSnapshot prompt) => prompt.Outcome is { HadNegative: false } outcome
        ? outcome.NoNegative ?? NegativeSelection.WhyNone([.. outcome.Judged.Select(j => j.Vote)])
        : null;

    /// <summary>
    /// The prompt whose tree is drawn: the one asked for (its prompt id or full key), else the first still
    /// searching, else the first with a tree, else the first; null when there are no prompts yet.
    /// </summary>
    public static PromptSnapshot? SelectPrompt(IReadOnlyList<PromptSnapshot> prompts, string? requested)
    {
        if (requested is not null)
        {
            return prompts.FirstOrDefault(p => p.Key == requested || PromptId(p) == requested)
                ?? throw new UserInputException(
                    $"No prompt '{requested}' in this iteration. Its prompts: {string.Join(", ", prompts.Take(10).Select(PromptId))}{(prompts.Count > 10 ? ", ..." : "")}.");
        }
        return prompts.FirstOrDefault(p => p.Phase == PromptPhase.Searching)
            ?? prompts.FirstOrDefault(p => p.Search is not null)
            ?? prompts.FirstOrDefault();
    }

    /// <summary>The prompt id: the last part of the key <c>{run}/{iteration}/{prompt}</c>.</summary>
    public static string PromptId(PromptSnapshot prompt) => prompt.Prompt?.PromptId ?? prompt.Key[(prompt.Key.LastIndexOf('/') + 1)..];
}

/// <summary>
/// Counts of an iteration's prompts. <see cref="Failed"/>: the search ended without a winner;
/// <see cref="NoNegative"/>: no sample had a No majority, so there was nothing to refine; <see cref="NoVerdict"/>:
/// those of them whose every vote was invalid (the refiner wrote no verdict at all); <see cref="Waiting"/>:
/// not yet searched (sampling, judging, or not started).
/// </summary>
public sealed record IterationOverview(int Prompts, int Done, int InSearch, int WithWinner, int Failed, int NoNegative, int Waiting, int Expansions, int NoVerdict = 0)
{
    public static IterationOverview From(IReadOnlyList<PromptSnapshot> prompts, int promptCount)
    {
        var done = prompts.Count(p => p.Phase == PromptPhase.Done);
        var searching = prompts.Count(p => p.Phase == PromptPhase.Searching);
        return new IterationOverview(
            Math.Max(promptCount, prompts.Count),
            done,
            searching,
            prompts.Count(p => p.Outcome?.FoundWinner == true),
            prompts.Count(p => p.Outcome is { HadNegative: true, FoundWinner: false }),
            prompts.Count(p => p.Outcome is { HadNegative: false }),
            Math.Max(promptCount, prompts.Count) - done - searching,
            prompts.Sum(p => p.Search?.Expansions ?? 0),
            prompts.Count(p => WatchFrame.WhyNoNegative(p) == NoNegativeReason.AllVotesInvalid));
    }
}

/// <summary>Average rates since the watcher first saw the iteration.</summary>
public sealed record Throughput(double PromptsPerMinute, double ExpansionsPerSecond);

/// <summary>
/// Measures throughput from successive observations (time, prompts done, expansions) of one iteration; a new
/// iteration starts the measurement again. Pure: the caller supplies the clock.
/// </summary>
public sealed class ThroughputMeter
{
    private (DateTimeOffset At, int Iteration, int Done, int Expansions)? _first;

    public Throughput? Observe(DateTimeOffset at, int iteration, int done, int expansions)
    {
        if (_first is not { } first || first.Iteration != iteration || done < first.Done || expansions < first.Expansions)
        {
            _first = (at, iteration, done, expansions);
            return null;
        }
        var seconds = (at - first.At).TotalSeconds;
        return seconds <= 0 ? null : new Throughput(60 * (done - first.Done) / seconds, (expansions - first.Expansions) / seconds);
    }
}

/// <summary>
/// The verifiers' verdict beside a judge's majority, for both views: whether the response passes, and whether that
/// contradicts the judge (a judged-right response that fails, or a judged-wrong one that passes).
/// </summary>
public sealed record VerifierNote(bool Passes, bool Disagrees)
{
    /// <summary>Null where the verifiers cannot tell.</summary>
    public static VerifierNote? Of(bool? follows, Verdict? majority) => follows switch
    {
        true => new VerifierNote(true, majority == Verdict.No),
        false => new VerifierNote(false, majority == Verdict.Yes),
        null => null,
    };

    public string Text => (Passes, Disagrees) switch
    {
        (true, true) => "verifiers: pass (judge disagrees)",
        (true, false) => "verifiers: pass",
        (false, true) => "verifiers: FAIL (judge disagrees)",
        (false, false) => "verifiers: fail",
    };
}
