namespace SparOrleans.Core.Errors;

/// <summary>
/// A mistake in what the user supplied (a file, an option, an id). The client prints <see cref="Exception.Message"/>
/// alone and exits non-zero: a user mistake never produces a stack trace.
/// </summary>
public class UserInputException : Exception
{
    public UserInputException(string message) : base(message) { }

    public UserInputException(string message, Exception inner) : base(message, inner) { }
}
