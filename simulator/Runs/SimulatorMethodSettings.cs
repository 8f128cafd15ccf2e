using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Simulator.Runs;

/// <summary>The method's settings of a simulator run: read from its <see cref="SimulatorOptions"/> (<see cref="RunOptions.Of"/>).</summary>
public sealed class SimulatorMethodSettings : IMethodSettings
{
    public MethodSettings Of(RunSpec spec)
    {
        var options = RunOptions.Of(spec);
        return new MethodSettings(RunOptions.Sampling(options), options.InitialVoting, options.TreeSearch, options.TreeVoting, options.RftVotes, options.RftYesShare ?? options.RefinerYesShare, options.RftCaps, options.RftOracle, options.RftGrounded);
    }
}
