using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SparOrleans.Core.Export;

namespace SparOrleans.Simulator;

/// <summary>
/// Keeps bootstrapped M_0/R_0 checkpoints under <c>root/actor-KEY</c> and <c>root/refiner-KEY</c>, the key a hash of
/// every option that shapes the model (seed, sizes, data, training; not threads or evaluation settings, except the
/// frozen judge set R_0 carries: its size and held-out seed). The bootstrap
/// is most of a run's time and depends only on those options, so a second run with the same ones (another policy,
/// more iterations, a baseline from the same M_0/R_0) starts from the stored models instead of training them again.
/// Entries are written whole (copy to a temporary sibling, then move). With <paramref name="refresh"/> the stored
/// entries are not read: the models are trained again and replace them (<c>spar run --fresh-bootstrap</c>).
/// </summary>
public sealed class BootstrapCache(string root, bool refresh = false)
{
    private const string ResultFile = "bootstrap.json";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The key of M_0 for <paramref name="options"/>.</summary>
    public static string ActorKey(SimulatorOptions options) => Hash(new
    {
        options.ForBootstrap().Seed, options.HiddenSize, options.Layers, options.Heads, options.Device, options.Composer, options.ActorSft, options.SubwordMerges,
    });

    /// <summary>The key of R_0: M_0's key and everything R_0's data and training depend on.</summary>
    public static string RefinerKey(SimulatorOptions options) => Hash(new
    {
        Actor = ActorKey(options), options.RefinerSamplePrompts, options.RefinerSampleTemperature, options.ActorMaxNewTokens,
        options.RefinerSft, options.RefineShare, options.VerdictWeight, options.RefinerInit, options.GenerationBatch,
        options.RefinerYesShare, options.RefinerTeacherShare, options.FrozenJudgeCases, options.HeldOutSeed,
    });

    /// <summary>M_0 into <paramref name="actorDir"/>: copied from the cache when present, otherwise trained and stored.</summary>
    public Task<BootstrapResult> ActorAsync(SimulatorOptions options, string actorDir, IProgress<StepProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        GetOrTrainAsync(Path.Combine(Root, "actor-" + ActorKey(options)), actorDir,
            () => Bootstrap.TrainActorAsync(options, actorDir, progress, cancellationToken));

    /// <summary>R_0 into <paramref name="refinerDir"/> (from M_0 in <paramref name="actorDir"/> when it must be trained).</summary>
    public Task<BootstrapResult> RefinerAsync(SimulatorOptions options, string actorDir, string refinerDir,
        IProgress<StepProgress>? progress = null, CancellationToken cancellationToken = default) =>
        GetOrTrainAsync(Path.Combine(Root, "refiner-" + RefinerKey(options)), refinerDir,
            () => Bootstrap.TrainRefinerAsync(options, actorDir, refinerDir, progress, cancellationToken));

    private async Task<BootstrapResult> GetOrTrainAsync(string entry, string target, Func<Task<BootstrapResult>> train)
    {
        var resultFile = Path.Combine(entry, ResultFile);
        if (!refresh && File.Exists(resultFile))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var stored = JsonSerializer.Deserialize<BootstrapResult>(await File.ReadAllTextAsync(resultFile).ConfigureAwait(false))!;
                    CopyAtomically(entry, target, skip: ResultFile, verify: true);
                    return stored with { ModelDir = target, Cached = true };
                }
                catch (IOException) when (attempt < 3)
                {
                    // Another run replaced the entry while this one copied it (--fresh-bootstrap): copy the new one.
                }
            }
        }
        var result = await train().ConfigureAwait(false);
        // The entry's result file is written inside the copy before it is moved into place: an entry either has it
        // and is complete, or does not exist. Runs sharing the cache (a gpu silo's concurrent runs) may train the same
        // entry at once: the first one stored is kept, and losing that race is no failure.
        if (refresh || !File.Exists(resultFile))
        {
            try
            {
                CopyAtomically(target, entry, skip: null, alsoWrite: dir =>
                    File.WriteAllText(Path.Combine(dir, ResultFile), JsonSerializer.Serialize(result)));
            }
            catch (IOException) when (File.Exists(resultFile))
            {
                // Another run stored the same models first.
            }
        }
        return result;
    }

    private static void CopyAtomically(string source, string destination, string? skip, Action<string>? alsoWrite = null, bool verify = false) =>
        AtomicDirectory.Write(destination, temp =>
        {
            var listed = Directory.GetFiles(source).Select(Path.GetFileName).Where(f => f != skip).Order(StringComparer.Ordinal).ToList();
            foreach (var file in listed)
            {
                File.Copy(Path.Combine(source, file!), Path.Combine(temp, file!));
            }
            // A listing taken while the entry was being replaced can be of the old directory as its files are deleted:
            // the copy is whole only if the entry still lists the same files (AtomicDirectory's reader contract).
            if (verify && !Directory.GetFiles(source).Select(Path.GetFileName).Where(f => f != skip).Order(StringComparer.Ordinal).SequenceEqual(listed))
            {
                throw new IOException($"{source} was replaced while it was copied.");
            }
            alsoWrite?.Invoke(temp);
        });

    private static string Hash(object value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value))))[..16];
}
