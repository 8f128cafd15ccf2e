using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Judging;
using SparOrleans.Core.Negatives;
using SparOrleans.Core.Search;
using SparOrleans.Grains.Placement;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Grains.Runs;

/// <summary>
/// Drives a run: bootstrap, then per iteration sampling → judging → (negative selection and) search → actor DPO →
/// refiner RFT → evaluation, each phase fanned out over prompt grains and awaited whole before the next starts.
/// The state is written after every phase; on activation a run that was running picks up at its stored phase (prompt
/// grains return what they already stored, training is re-done deterministically), which is what `spar resume` uses.
/// While running it holds a reminder (<see cref="RunReminderOptions"/>): when the coordinator's silo dies with no
/// client attached, a tick activates the grain on a live silo and the run continues there.
/// </summary>
[GrainType("run")]
[Reentrant]
[RequireSiloRole(SiloRoles.Cpu)]
public sealed class RunGrain(
    [PersistentState("state", SparStorage.Name)] IPersistentState<RunGrain.RunState> state,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    IPromptSource promptSource,
    IResponseVerifier verifier,
    IMethodSettings methodSettings,
    RunRetryOptions retry,
    RunReminderOptions reminder,
    ILocalSiloDetails silo,
    ILogger<RunGrain> logger) : Grain, IRunGrain, IRemindable
{
    /// <summary>The reminder a running run holds; its ticks only matter when no activation drives the run.</summary>
    public const string KeepRunningReminder = "keep-running";

    private Task? _driving;
    private int _failuresSinceProgress;
    private (int Iteration, RunPhase Phase) _failingAt;
    private TaskCompletionSource _changed = NewSignal();
    private (int Done, int Total, string Message) _progress = (0, 0, "");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Status == RunStatusKind.Running)
        {
            logger.LogInformation("Run {Run} was running at {Phase} (iteration {Iteration}): continuing", Id, state.State.Phase, state.State.Iteration);
            StartDriving();
        }
        return Task.CompletedTask;
    }

    private string Id => this.GetPrimaryKeyString();

    public async Task<RunStatus> StartAsync(RunSpec spec)
    {
        if (state.State.Spec is null)
        {
            state.State.Spec = spec;
            state.State.Status = RunStatusKind.Running;
            state.State.Phase = RunPhase.Starting;
            state.State.Created = state.State.Updated = DateTimeOffset.UtcNow;
            await state.WriteStateAsync();
        }
        StartDriving();
        return Status();
    }

    public async Task<RunStatus> ResumeAsync()
    {
        if (state.State.Spec is null)
        {
            throw new ArgumentException($"There is no stored run '{Id}'.");
        }
        if (state.State.Status == RunStatusKind.Failed)
        {
            state.State.Status = RunStatusKind.Running;
            state.State.Error = null;
            await state.WriteStateAsync();
        }
        StartDriving();
        return Status();
    }

    public Task<RunStatus> GetStatusAsync() => Task.FromResult(Status());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != KeepRunningReminder)
        {
            return;
        }
        if (state.State.Status != RunStatusKind.Running)
        {
            // Completed, or failed after the retry limit: only `spar resume` restarts a failed run, never a tick.
            await ForgetReminderAsync();
            return;
        }
        // The activation that the tick created has started driving already (OnActivateAsync); a live one is driving.
        StartDriving();
    }

    public async IAsyncEnumerable<RunStatus> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.Task;
            var status = Status();
            yield return status;
            if (status.Status is RunStatusKind.Completed or RunStatusKind.Failed)
            {
                yield break;
            }
            // Training reports progress without touching run state: look at it at least every second.
            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public Task<IReadOnlyList<string>> GetPromptKeysAsync(int iteration) => Task.FromResult<IReadOnlyList<string>>(
        iteration >= 1 && iteration <= state.State.PromptIds.Count
            ? state.State.PromptIds[iteration - 1].Select(p => PromptKeys.Prompt(Id, iteration, p)).ToList()
            : []);

    private void StartDriving()
    {
        if (_driving is { IsCompleted: false } || state.State.Status != RunStatusKind.Running)
        {
            return;
        }
        // A run takes minutes to hours with no incoming calls: keep the activation while it drives.
        DelayDeactivation(TimeSpan.FromDays(7));
        _failuresSinceProgress = 0;
        _driving = DriveAsync();
    }

    private async Task DriveAsync()
    {
        await KeepRunningAsync();
        while (true)
        {
            try
            {
                await DriveOnceAsync();
                return;
            }
            catch (Exception) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // The silo is stopping (Ctrl-C, a rolling restart): the run stays Running and continues where its last
                // phase ended when it is activated again: by its reminder on another silo of a cluster, a client, or
                // `spar resume`. The reminder stays registered for that.
                logger.LogInformation("Run {Run} interrupted at {Phase} by the silo stopping", Id, state.State.Phase);
                return;
            }
            catch (Exception e) when (RunFaults.IsTransient(e) && CountFailure() <= retry.MaxAttempts)
            {
                // A silo died, storage is away or a grain lost an ETag race: every phase is idempotent, so retry the
                // current phase after a back-off instead of failing the run. The grain is reentrant, so the wait holds
                // no turn.
                var delay = retry.Delay(_failuresSinceProgress);
                logger.LogWarning("Run {Run} hit a transient fault at {Phase} (attempt {Attempt} of {MaxAttempts}), retrying in {Delay}: {Error}",
                    Id, state.State.Phase, _failuresSinceProgress, retry.MaxAttempts, delay, e.Message);
                await Task.Delay(delay);
                if (RunFaults.IsConflict(e))
                {
                    await ReloadAsync();
                }
            }
            catch (Exception e)
            {
                logger.LogError(e, "Run {Run} failed at {Phase}", Id, state.State.Phase);
                state.State.Status = RunStatusKind.Failed;
                state.State.Error = RunFaults.IsTransient(e)
                    ? $"{state.State.Phase}: gave up after {retry.MaxAttempts} attempts in a row failed without completing a phase; the last: {e.Message}"
                    : $"{state.State.Phase}: {e.Message}";
                try
                {
                    await SaveAsync();
                }
                catch (Exception saveError)
                {
                    // The failure stays visible to watchers of this activation; storage will say Running, and a
                    // resume retries, which is the safe direction.
                    logger.LogError(saveError, "Run {Run} could not store its failure", Id);
                    Signal();
                }
                await ForgetReminderAsync();
                return;
            }
        }
    }

    /// <summary>
    /// Our own state write lost an ETag race (a write whose reply was lost): take the stored ETag, and the stored state
    /// unless it is older than ours (a storage that lost writes), which the next write then puts back.
    /// </summary>
    private async Task ReloadAsync()
    {
        var mine = state.State;
        try
        {
            await state.ReadStateAsync();
            if (state.State.Spec is null || state.State.Updated < mine.Updated)
            {
                state.State = mine;
            }
        }
        catch (Exception e) when (RunFaults.IsTransient(e))
        {
            // Still unreachable: the next attempt's first write conflicts again and comes back here.
            logger.LogWarning("Run {Run} could not re-read its state: {Error}", Id, e.Message);
        }
    }

    private async Task DriveOnceAsync()
    {
        var spec = state.State.Spec!;
        var plan = new RunLayout(spec);
        var trainer = grains.GetGrain<ITrainerGrain>(Id);
        if (state.State.Iteration == 0)
        {
            await BootstrapAsync(spec, plan, trainer);
        }
        while (state.State.Iteration <= spec.Iterations && state.State.Phase != RunPhase.Done)
        {
            await IterateAsync(spec, plan, trainer);
        }
        state.State.Status = RunStatusKind.Completed;
        await SaveAsync();
        await ForgetReminderAsync();
    }

    /// <summary>
    /// Registers the reminder that re-activates the run if its silo dies. Best effort: a silo without a reminder
    /// service (or a reminder table that is away) still drives the run; it just does not heal without a client.
    /// </summary>
    private async Task KeepRunningAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(KeepRunningReminder, reminder.Period, reminder.Period);
        }
        catch (Exception e)
        {
            logger.LogWarning("Run {Run} could not register its keep-running reminder (it continues only with a client attached if this silo dies): {Error}",
                Id, e.Message);
        }
    }

    private async Task ForgetReminderAsync()
    {
        try
        {
            if (await this.GetReminder(KeepRunningReminder) is { } registered)
            {
                await this.UnregisterReminder(registered);
            }
        }
        catch (Exception e)
        {
            // The next tick finds the run ended and tries again.
            logger.LogWarning("Run {Run} could not unregister its keep-running reminder: {Error}", Id, e.Message);
        }
    }

    private async Task BootstrapAsync(RunSpec spec, RunLayout plan, ITrainerGrain trainer)
    {
        var clock = Stopwatch.StartNew();
        var phases = new Dictionary<string, double>();
        if (state.State.Phase <= RunPhase.BootstrapActor)
        {
            await EnterAsync(RunPhase.BootstrapActor, "SFT of M_0 on teacher answers");
            await TimedAsync(phases, "bootstrap_actor", () => WithTrainerProgress(trainer, trainer.BootstrapActorAsync(spec, plan.Actor(0))));
        }
        if (state.State.Phase <= RunPhase.BootstrapRefiner)
        {
            await EnterAsync(RunPhase.BootstrapRefiner, "SFT of R_0 on teacher judgments and refinements of M_0's answers");
            await TimedAsync(phases, "bootstrap_refiner", () => WithTrainerProgress(trainer, trainer.BootstrapRefinerAsync(spec, plan.Actor(0), plan.Refiner(0))));
        }
        await EnterAsync(RunPhase.Evaluation, "held-out evaluation of M_0/R_0");
        var evaluation = await TimedAsync(phases, "evaluation", () => WithTrainerProgress(trainer, trainer.EvaluateAsync(spec, plan.Actor(0), plan.Refiner(0))));
        state.State.Reports.Add(new IterationReport(0, evaluation.Actor, evaluation.Refiner, null, null, 0, 0, clock.Elapsed.TotalSeconds, phases, 0, 0, 0));
        state.State.Iteration = 1;
        state.State.Phase = RunPhase.Sampling;
        await SaveAsync();
    }

    private async Task IterateAsync(RunSpec spec, RunLayout plan, ITrainerGrain trainer)
    {
        var t = state.State.Iteration;
        var clock = Stopwatch.StartNew();
        var phases = new Dictionary<string, double>();
        var prompts = promptSource.Prompts(spec, t);
        if (state.State.PromptIds.Count < t)
        {
            state.State.PromptIds.Add([.. prompts.Select(p => p.PromptId)]);
        }
        var context = Context(spec, plan, t);
        var promptGrains = prompts.Select(p => (Spec: p, Grain: grains.GetGrain<IPromptGrain>(PromptKeys.Prompt(Id, t, p.PromptId)))).ToList();

        await EnterAsync(RunPhase.Sampling, $"actor M_{t - 1} samples {spec.SamplesPerPrompt} responses per prompt");
        await TimedAsync(phases, "sampling", () => FanOutAsync(promptGrains, p => p.Grain.SampleAsync(context, p.Spec)));

        await EnterAsync(RunPhase.Judging, $"refiner R_{t - 1} judges every response (voting@{context.InitialVoting.Samples})");
        await TimedAsync(phases, "judging", () => FanOutAsync(promptGrains, p => p.Grain.JudgeAsync(context)));

        await EnterAsync(RunPhase.Search, spec.Pairs.UsesTreeSearch()
            ? $"{spec.Policy.ToUpperInvariant()} tree-search refinement of each negative"
            : $"{spec.Pairs.Name()} pairs from the judged samples (baseline: no tree search)");
        var outcomes = new List<PromptOutcome>();
        await TimedAsync(phases, "search", () => FanOutAsync(promptGrains, async p =>
        {
            var outcome = await p.Grain.SearchAsync(context);
            lock (outcomes)
            {
                outcomes.Add(outcome);
            }
        }));

        // Prompt order, not completion order: a resumed or retried run must build exactly the same data sets.
        var pairs = IterationDatasets.DpoPairs(outcomes);
        var byId = prompts.ToDictionary(p => p.PromptId);
        var settings = methodSettings.Of(spec);
        var rft = IterationDatasets.RftExamples(spec, outcomes, settings, IterationDatasets.RftFilter(spec, settings, byId, verifier));

        await EnterAsync(RunPhase.ActorTraining, spec.Pairs.TrainsActorBySft()
            ? $"SFT of M_{t - 1} on {pairs.Count} refined responses (SELF)"
            : $"DPO of M_{t - 1} on {pairs.Count} {spec.Pairs.Name()} pairs");
        var dpo = await TimedAsync(phases, "actor_dpo", () => WithTrainerProgress(trainer, trainer.TrainActorAsync(spec, plan.Actor(t - 1), plan.Actor(t), pairs)));

        await EnterAsync(RunPhase.RefinerTraining, $"RFT of R_{t - 1} on {rft.Count} judgments and refinements");
        await TimedAsync(phases, "refiner_rft", () => WithTrainerProgress(trainer, trainer.TrainRefinerAsync(spec, plan.Refiner(t - 1), plan.Refiner(t), rft)));
        if (spec.Pairs.TrainsJudgeByDpo())
        {
            var judgePairs = IterationDatasets.JudgePairs(spec, outcomes, byId);
            await EnterAsync(RunPhase.RefinerTraining, $"judge DPO of R_{t} on {judgePairs.Count} kept-vs-dissenting judgments (meta-rewarding)");
            // In place: a resumed iteration redoes the RFT from R_{t-1} first, so this never stacks on itself.
            await TimedAsync(phases, "refiner_judge_dpo", () => WithTrainerProgress(trainer, trainer.TrainJudgeAsync(spec, plan.Refiner(t), plan.Refiner(t), judgePairs)));
        }

        await EnterAsync(RunPhase.Evaluation, $"held-out evaluation of M_{t}/R_{t}");
        var evaluation = await TimedAsync(phases, "evaluation", () => WithTrainerProgress(trainer, trainer.EvaluateAsync(spec, plan.Actor(t), plan.Refiner(t))));

        var trees = outcomes.Where(o => o.HadNegative).ToList();
        state.State.Reports.Add(new IterationReport(
            t,
            evaluation.Actor,
            evaluation.Refiner,
            IterationDatasets.VerifiedWinnerShare(spec, trees, byId, verifier),
            trees.Count == 0 ? null : trees.Average(o => o.Expansions),
            pairs.Count,
            rft.Count,
            clock.Elapsed.TotalSeconds,
            phases,
            prompts.Count,
            trees.Count,
            trees.Count(o => o.FoundWinner),
            outcomes.Count(o => o.NoNegative == NoNegativeReason.AllVotesInvalid)));
        logger.LogInformation("Run {Run} iteration {Iteration}: {Pairs} DPO pairs, loss {Loss}", Id, t, pairs.Count, dpo.LastMetrics.GetValueOrDefault("loss"));
        state.State.Iteration = t + 1;
        state.State.Phase = t + 1 > spec.Iterations ? RunPhase.Done : RunPhase.Sampling;
        await SaveAsync();
    }

    private IterationContext Context(RunSpec spec, RunLayout plan, int t)
    {
        var settings = methodSettings.Of(spec);
        return new IterationContext(
            Id,
            t,
            Model(spec, ModelRole.Actor, t - 1, plan.Actor(t - 1)),
            Model(spec, ModelRole.Refiner, t - 1, plan.Refiner(t - 1)),
            spec.Seed,
            IterationDatasets.Format(spec).Name,
            spec.SamplesPerPrompt,
            settings.Sampling,
            settings.InitialVoting,
            Enum.Parse<SearchPolicyKind>(spec.Policy, ignoreCase: true),
            settings.TreeSearch,
            settings.TreeVoting,
            spec.Pairs,
            settings.RftVotes);
    }

    private ModelRef Model(RunSpec spec, ModelRole role, int version, string directory) => new(
        role,
        $"{Id}/{role.ToString().ToLowerInvariant()}-{version}",
        directory,
        spec.Models?.Generation?.Served(Id, role, version));

    private async Task FanOutAsync<T>(IReadOnlyList<T> items, Func<T, Task> call)
    {
        _progress = (0, items.Count, _progress.Message);
        Signal();
        await Task.WhenAll(items.Select(async item =>
        {
            await call(item);
            _progress = (_progress.Done + 1, _progress.Total, _progress.Message);
            Signal();
        }));
    }

    private async Task<T> WithTrainerProgress<T>(ITrainerGrain trainer, Task<T> step)
    {
        while (!step.IsCompleted)
        {
            await Task.WhenAny(step, Task.Delay(TimeSpan.FromMilliseconds(500)));
            if (!step.IsCompleted && await trainer.GetProgressAsync() is { } progress)
            {
                _progress = (progress.Done, progress.Total, progress.Loss is { } loss ? $"{progress.Step} loss {loss:F3}" : progress.Step);
                Signal();
            }
        }
        return await step;
    }

    private static async Task<T> TimedAsync<T>(Dictionary<string, double> phases, string name, Func<Task<T>> step)
    {
        var clock = Stopwatch.StartNew();
        var result = await step();
        phases[name] = clock.Elapsed.TotalSeconds;
        return result;
    }

    private static async Task TimedAsync(Dictionary<string, double> phases, string name, Func<Task> step) =>
        await TimedAsync(phases, name, async () => { await step(); return 0; });

    private async Task EnterAsync(RunPhase phase, string message)
    {
        state.State.Phase = phase;
        _progress = (0, 0, message);
        await SaveAsync();
    }

    private async Task SaveAsync()
    {
        state.State.Updated = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        Signal();
    }

    /// <summary>
    /// Counts a transient failure, from 1 again once the run has got past where the previous one happened: progress is
    /// a phase completed, not a state write (every retry writes the phase it re-enters, which used to reset the count,
    /// so a phase that always failed was retried forever as "attempt 1").
    /// </summary>
    private int CountFailure()
    {
        var at = (state.State.Iteration, state.State.Phase);
        if (_failuresSinceProgress == 0 || at.Iteration > _failingAt.Iteration
            || (at.Iteration == _failingAt.Iteration && at.Phase > _failingAt.Phase))
        {
            _failuresSinceProgress = 0;
            _failingAt = at;
        }
        return ++_failuresSinceProgress;
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunStatus Status() => new(
        Id,
        state.State.Status,
        state.State.Phase,
        state.State.Iteration,
        _progress.Done,
        _progress.Total,
        _progress.Message,
        [.. state.State.Reports],
        state.State.Error,
        state.State.Created,
        state.State.Updated,
        state.State.Spec,
        silo.Name);

    [GenerateSerializer, Alias("spar.run-state")]
    public sealed class RunState
    {
        [Id(0)] public RunSpec? Spec { get; set; }

        [Id(1)] public RunStatusKind Status { get; set; }

        [Id(2)] public RunPhase Phase { get; set; }

        [Id(3)] public int Iteration { get; set; }

        [Id(4)] public List<IterationReport> Reports { get; set; } = [];

        [Id(5)] public List<List<string>> PromptIds { get; set; } = [];

        [Id(6)] public string? Error { get; set; }

        [Id(7)] public DateTimeOffset Created { get; set; }

        [Id(8)] public DateTimeOffset Updated { get; set; }
    }
}

/// <summary>Where a run keeps its model checkpoints: <c>{out}/models/actor-{t}</c> and <c>refiner-{t}</c>.</summary>
public sealed record RunLayout(RunSpec Spec)
{
    public string Actor(int version) => Path.Combine(Spec.OutputDirectory, "models", $"actor-{version}");

    public string Refiner(int version) => Path.Combine(Spec.OutputDirectory, "models", $"refiner-{version}");
}
