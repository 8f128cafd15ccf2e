namespace SparOrleans.Simulator;

/// <summary>The simulator's in-process models, on its options' device, batch size and threads.</summary>
public static class SimulatorModels
{
    public static ModelRunner Load(string modelDir, SimulatorOptions options) =>
        ModelRunner.Load(modelDir, options.Device, options.GenerationBatch, options.EffectiveThreads);
}
