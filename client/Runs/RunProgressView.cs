using System.Globalization;
using Spectre.Console;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Shows a run's progress: a live bar per phase with ETA on a terminal, one plain line per change otherwise (logs,
/// CI). Returns the final status.
/// </summary>
public static class RunProgressView
{
    public static async Task<RunStatus> FollowAsync(IAsyncEnumerable<RunStatus> updates, TextWriter stderr, bool interactive, CancellationToken cancellationToken)
    {
        return interactive && stderr == Console.Error
            ? await FollowLiveAsync(updates, cancellationToken)
            : await FollowPlainAsync(updates, stderr, cancellationToken);
    }

    private static async Task<RunStatus> FollowPlainAsync(IAsyncEnumerable<RunStatus> updates, TextWriter stderr, CancellationToken cancellationToken)
    {
        RunStatus? last = null;
        string? lastLine = null;
        await foreach (var status in updates.WithCancellation(cancellationToken))
        {
            last = status;
            var percent = status.Total > 0 ? $" {status.Done}/{status.Total} ({100 * status.Done / status.Total}%)" : "";
            var line = $"[{Label(status)}]{percent} {status.Message}";
            // One line per phase and per 10% step keeps logs readable.
            var key = $"{Label(status)}|{(status.Total > 0 ? 10 * status.Done / status.Total : -1)}";
            if (key != lastLine)
            {
                await stderr.WriteLineAsync($"{DateTime.Now:HH:mm:ss} {line}");
                lastLine = key;
            }
        }
        return last ?? throw new InvalidOperationException("The run reported no status.");
    }

    private static async Task<RunStatus> FollowLiveAsync(IAsyncEnumerable<RunStatus> updates, CancellationToken cancellationToken)
    {
        RunStatus? last = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                await foreach (var status in updates.WithCancellation(cancellationToken))
                {
                    last = status;
                    var label = Label(status);
                    foreach (var (other, task) in tasks)
                    {
                        if (other != label && !task.IsFinished)
                        {
                            task.Value = task.MaxValue;
                            task.StopTask();
                        }
                    }
                    if (!tasks.TryGetValue(label, out var current))
                    {
                        current = tasks[label] = context.AddTask(label);
                    }
                    current.Description = $"{label} [grey]{Markup.Escape(status.Message)}[/]";
                    if (status.Total > 0)
                    {
                        current.IsIndeterminate = false;
                        current.MaxValue = status.Total;
                        current.Value = status.Done;
                    }
                    else
                    {
                        current.IsIndeterminate = true;
                    }
                }
                foreach (var task in tasks.Values)
                {
                    task.StopTask();
                }
            });
        return last ?? throw new InvalidOperationException("The run reported no status.");
    }

    private static string Label(RunStatus status) => status.Phase switch
    {
        RunPhase.Starting or RunPhase.Done or RunPhase.BootstrapActor or RunPhase.BootstrapRefiner => PhaseNames.Of(status.Phase),
        _ => $"iter {status.Iteration.ToString(CultureInfo.InvariantCulture)} {PhaseNames.Of(status.Phase)}",
    };
}
