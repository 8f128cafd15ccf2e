using System.Text.Json;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Simulator.Runs;

/// <summary>A run's simulator options: the JSON in its spec (the client writes the preset with its overrides).</summary>
public static class RunOptions
{
    public static SimulatorOptions Of(RunSpec spec) =>
        string.IsNullOrWhiteSpace(spec.SimulatorOptionsJson) || spec.SimulatorOptionsJson == "{}"
            ? SimulatorOptions.Preset(spec.Preset) with { Seed = spec.Seed }
            : JsonSerializer.Deserialize<SimulatorOptions>(spec.SimulatorOptionsJson)
              ?? throw new ArgumentException($"Run {spec.RunId} has empty simulator options.");

    public static string ToJson(SimulatorOptions options) => JsonSerializer.Serialize(options);

    /// <summary>How each role samples under <paramref name="options"/> (the loop's and the experiments' generations alike).</summary>
    public static SamplingOptions Sampling(SimulatorOptions options) => new()
    {
        ActorTemperature = options.ActorTemperature,
        JudgeTemperature = options.RefinerTemperature,
        RefineTemperature = options.RefinerTemperature,
        ActorMaxTokens = options.ActorMaxNewTokens,
        JudgeMaxTokens = options.JudgeMaxNewTokens,
        RefineMaxTokens = options.RefineMaxNewTokens,
    };
}
