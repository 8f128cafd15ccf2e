using SparOrleans.Models.Generation;
using SparOrleans.Core.Errors;
using SparOrleans.Engine.Model;
using SparOrleans.Simulator;

namespace SparOrleans.Experiments;

/// <summary>
/// The M_0/R_0 an experiment on trained models studies: explicit checkpoint folders, else the bootstrap of the
/// default options from the home's bootstrap cache (what <c>spar run</c> starts from), trained into the cache first
/// when it is missing, so the experiment runs from a clean checkout too.
/// </summary>
public static class ExperimentModels
{
    /// <param name="Scratch">A folder to delete afterwards (the cache entries are copied there), or null.</param>
    public sealed record Pair(string Actor, string Refiner, string Source, string? Scratch);

    public static async Task<Pair> ResolveAsync(string? actor, string? refiner, string bootstrapCacheDirectory, SimulatorOptions options,
        Action<string> log, CancellationToken cancellationToken)
    {
        if (actor is not null || refiner is not null)
        {
            if (actor is null || refiner is null)
            {
                throw new UserInputException("Give both --actor and --refiner, or neither (then the cached bootstrap M_0/R_0 is used).");
            }
            foreach (var dir in new[] { actor, refiner })
            {
                if (!File.Exists(Path.Combine(dir, ModelCheckpoint.ConfigFile)))
                {
                    throw new UserInputException($"'{dir}' is not a model checkpoint (no config.json), e.g. runs/<run>/models/refiner-0.");
                }
                // Corrupt weights or tokenizer files are refused now, not after the experiment has started.
                ModelCheckpoint.Inspect(dir);
            }
            return new Pair(Path.GetFullPath(actor), Path.GetFullPath(refiner), $"{actor} and {refiner}", null);
        }
        var cache = new BootstrapCache(bootstrapCacheDirectory);
        var scratch = Path.Combine(Path.GetTempPath(), $"spar-experiment-{Guid.NewGuid():N}");
        var actorDir = Path.Combine(scratch, "actor-0");
        var refinerDir = Path.Combine(scratch, "refiner-0");
        var progress = new ThrottledProgress(log);
        var m0 = await cache.ActorAsync(options, actorDir, progress, cancellationToken);
        log(m0.Cached ? $"M_0 from the bootstrap cache ({cache.Root})" : $"M_0 trained in {m0.TotalSeconds:F0} s and stored in the bootstrap cache");
        var r0 = await cache.RefinerAsync(options, actorDir, refinerDir, progress, cancellationToken);
        log(r0.Cached ? "R_0 from the bootstrap cache" : $"R_0 trained in {r0.TotalSeconds:F0} s and stored in the bootstrap cache");
        return new Pair(actorDir, refinerDir, $"bootstrap M_0/R_0 of `spar run`'s defaults, seed {options.Seed}", scratch);
    }

    /// <summary>Deletes the pair's scratch copy, if it has one.</summary>
    public static void Release(Pair pair)
    {
        if (pair.Scratch is { } scratch && Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>One line per tenth of a bootstrap phase: minutes of training should show they are moving.</summary>
    private sealed class ThrottledProgress(Action<string> log) : IProgress<StepProgress>
    {
        private string _phase = "";
        private int _tenth = -1;

        public void Report(StepProgress value)
        {
            var tenth = value.Total == 0 ? 0 : 10 * value.Done / value.Total;
            if (value.Phase == _phase && tenth == _tenth)
            {
                return;
            }
            (_phase, _tenth) = (value.Phase, tenth);
            log(value.Loss is { } loss
                ? $"{value.Phase} {value.Done}/{value.Total} loss {loss:F3}"
                : $"{value.Phase} {value.Done}/{value.Total}");
        }
    }
}
