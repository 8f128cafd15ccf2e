using SparOrleans.Core.Simulation;
using SparOrleans.Engine.Model;
using SparOrleans.Engine.Native;
using SparOrleans.Engine.Training;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SparOrleans.Engine.Tests;

/// <summary>Tiny models and training examples of the "Write N letters x" task (<see cref="LetterTask"/>) shared by the tests.</summary>
internal static class TestSupport
{
    static TestSupport() => TorchRuntime.Configure(threads: 1, seed: 0);

    /// <summary>
    /// A tiny model, with torch set to 1 thread on the calling thread: the setting is per .NET thread, and xunit runs
    /// tests on several, so a static constructor alone left some tests on 2 threads and their numbers not reproducible.
    /// </summary>
    public static LanguageModel TinyModel(int d = 64, int layers = 2, int heads = 4, int kvHeads = 0, long seed = 1)
    {
        TorchRuntime.Configure(threads: 1);
        return LanguageModel.CreateByteLevel(d, layers, heads, kvHeads, seed);
    }

    public static TrainingSequence LettersExample(LanguageModel model, int n, char letter) =>
        TrainingSequence.FromUser(model.Template, LetterTask.Instruction(n, letter), new string(letter, n));

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-engine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
