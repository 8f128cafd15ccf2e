using System.CommandLine;

namespace SparOrleans.Client.Commands;

public static class EvalCommand
{
    // Placeholder until its issue lands: hidden so --help lists only verbs that work.
    public static Command Create(TextWriter stdout, TextWriter stderr) => new("eval") { Hidden = true };
}
