using SparOrleans.Core.Errors;
using SparOrleans.Engine.Model;
using SparOrleans.Grains.Runs;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// What `spar resume` checks before it starts a silo: every model checkpoint the run will continue from exists,
/// loads, and has the shape the run's options say. Otherwise the run would fail minutes later inside a silo, or
/// train on someone else's model.
/// </summary>
public static class ResumeCheck
{
    /// <summary>The checkpoint directories a run at its stored iteration and phase reads next (none once done).</summary>
    public static IEnumerable<string> CheckpointsNeeded(StoredRun run)
    {
        if (run.Spec is not { } spec || run.Status == RunStatusKind.Completed || run.Phase == RunPhase.Done)
        {
            yield break;
        }
        var layout = new RunLayout(spec);
        if (run.Iteration == 0)
        {
            if (run.Phase >= RunPhase.BootstrapRefiner)
            {
                yield return layout.Actor(0);
            }
            if (run.Phase == RunPhase.Evaluation)
            {
                yield return layout.Refiner(0);
            }
            yield break;
        }
        var t = run.Iteration;
        yield return layout.Actor(t - 1);
        yield return layout.Refiner(t - 1);
        if (run.Phase >= RunPhase.RefinerTraining)
        {
            yield return layout.Actor(t);
        }
        if (run.Phase >= RunPhase.Evaluation)
        {
            yield return layout.Refiner(t);
        }
    }

    /// <summary>Throws a <see cref="UserInputException"/> naming the first missing, corrupt or mismatched checkpoint.</summary>
    public static void Check(StoredRun run)
    {
        if (run.Spec is not { } spec)
        {
            return;
        }
        if (spec.Models is { } models)
        {
            CheckModelRun(run, models);
            return;
        }
        var options = RunOptions.Of(spec);
        foreach (var directory in CheckpointsNeeded(run))
        {
            if (!Directory.Exists(directory))
            {
                throw new UserInputException($"Run '{run.Id}' continues from the checkpoint {directory}, which is missing: restore it, or start a new run.");
            }
            LlamaConfig c;
            try
            {
                using var model = ModelCheckpoint.Load(directory);
                c = model.Config;
            }
            catch (UserInputException e)
            {
                throw new UserInputException($"Run '{run.Id}' cannot continue: its checkpoint is unusable: {e.Message}", e);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
            {
                throw new UserInputException($"Run '{run.Id}' cannot continue: checkpoint {directory} is corrupt ({e.Message}).", e);
            }
            if (c.HiddenSize != options.HiddenSize || c.NumHiddenLayers != options.Layers || c.NumAttentionHeads != options.Heads)
            {
                throw new UserInputException(
                    $"Checkpoint {directory} does not belong to run '{run.Id}': it has hidden size {c.HiddenSize}, {c.NumHiddenLayers} layers, " +
                    $"{c.NumAttentionHeads} heads; the run's options say {options.HiddenSize}, {options.Layers}, {options.Heads}.");
            }
        }
    }

    /// <summary>
    /// A run on real models: every checkpoint it continues from must be there and inspect cleanly (config, weight
    /// headers, tokenizer, adapter; no weights are read, whatever their size) with its starting model's shape.
    /// </summary>
    private static void CheckModelRun(StoredRun run, ModelRunSpec models)
    {
        foreach (var directory in CheckpointsNeeded(run))
        {
            if (!Directory.Exists(directory))
            {
                throw new UserInputException($"Run '{run.Id}' continues from the checkpoint {directory}, which is missing: restore it, or start a new run.");
            }
            var start = Path.GetFileName(directory).StartsWith("actor-", StringComparison.Ordinal) ? models.ActorDirectory : models.RefinerDirectory;
            LlamaConfig found, expected;
            try
            {
                found = ModelCheckpoint.Inspect(directory);
                expected = ModelCheckpoint.Inspect(start);
            }
            catch (UserInputException e)
            {
                throw new UserInputException($"Run '{run.Id}' cannot continue: {e.Message.TrimEnd('.')}.", e);
            }
            if (found.HiddenSize != expected.HiddenSize || found.NumHiddenLayers != expected.NumHiddenLayers || found.VocabSize != expected.VocabSize)
            {
                throw new UserInputException(
                    $"Checkpoint {directory} does not belong to run '{run.Id}': it has hidden size {found.HiddenSize}, {found.NumHiddenLayers} layers, " +
                    $"vocabulary {found.VocabSize}; its starting model {start} has {expected.HiddenSize}, {expected.NumHiddenLayers}, {expected.VocabSize}.");
            }
        }
    }
}
