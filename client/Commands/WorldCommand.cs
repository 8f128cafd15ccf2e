using System.CommandLine;

namespace SparOrleans.Client.Commands;

public static class WorldCommand
{
    // Placeholder until its issue lands: hidden so --help lists only verbs that work.
    public static Command Create(TextWriter stdout, TextWriter stderr) => new("world") { Hidden = true };
}
