namespace SparOrleans.Client.Cli;

/// <summary>Every exit code the client uses, in one place.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran but its result is a failure (e.g. a check did not pass).</summary>
    public const int Failure = 1;

    /// <summary>The user supplied something wrong: a bad option, a malformed file, an unknown id.</summary>
    public const int UserError = 2;

    /// <summary>Ctrl-C: the work stopped cleanly where it was.</summary>
    public const int Cancelled = 130;
}
