using SparOrleans.Core.Errors;

namespace SparOrleans.Core.Options;

/// <summary>An options record that can say what is wrong with its values.</summary>
public interface IValidatedOptions
{
    /// <summary>Every problem with the current values, each a sentence naming the option; empty when valid.</summary>
    IEnumerable<string> Problems();
}

/// <summary>Thrown when an options record is out of range; the message lists every problem at once.</summary>
public sealed class InvalidOptionsException(string optionsName, IReadOnlyList<string> problems)
    : UserInputException($"Invalid {optionsName}: {string.Join("; ", problems)}.")
{
    public IReadOnlyList<string> ProblemList { get; } = problems;
}

public static class OptionsValidation
{
    /// <summary>Returns the options unchanged when valid, else throws <see cref="InvalidOptionsException"/>.</summary>
    public static T Validated<T>(this T options) where T : IValidatedOptions
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? options : throw new InvalidOptionsException(typeof(T).Name, problems);
    }
}

/// <summary>Collects problems for <see cref="IValidatedOptions.Problems"/> with uniform wording.</summary>
public sealed class ProblemList : IEnumerable<string>
{
    private readonly List<string> _items = [];

    public ProblemList Require(bool condition, string problem)
    {
        if (!condition)
        {
            _items.Add(problem);
        }
        return this;
    }

    public ProblemList Positive(string name, double value) =>
        Require(value > 0, $"{name} must be greater than 0 (got {value})");

    public ProblemList NonNegative(string name, double value) =>
        Require(value >= 0, $"{name} must be at least 0 (got {value})");

    public ProblemList InRange(string name, double value, double min, double max) =>
        Require(value >= min && value <= max, $"{name} must be between {min} and {max} (got {value})");

    /// <summary>
    /// Most torch threads any option accepts: more oversubscribes every machine we run on, and a mistyped count
    /// (100000) would otherwise start that many threads and hang.
    /// </summary>
    public const int MaxThreads = 1024;

    /// <summary>A torch thread count between <paramref name="min"/> (0 where it means every core) and <see cref="MaxThreads"/>.</summary>
    public ProblemList Threads(string name, int value, int min = 1) => InRange(name, value, min, MaxThreads);

    /// <summary>A torch device the engine knows: cpu, cuda or cuda:N.</summary>
    public ProblemList Device(string name, string value) =>
        Require(IsDevice(value), $"{name} must be cpu, cuda or cuda:N (got '{value}')");

    public static bool IsDevice(string value) =>
        value is "cpu" or "cuda" || (value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value["cuda:".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _));

    /// <summary>The problems of a nested options record, each prefixed with its name (<c>Dpo.LearningRate ...</c>).</summary>
    public ProblemList Nested(string name, IValidatedOptions? options)
    {
        _items.AddRange(options?.Problems().Select(p => $"{name}.{p}") ?? []);
        return this;
    }

    /// <summary>For options given one by one on a command line: every problem in one <see cref="UserInputException"/>.</summary>
    public void ThrowIfAny()
    {
        if (_items.Count > 0)
        {
            throw new UserInputException(string.Join("; ", _items) + ".");
        }
    }

    public IEnumerator<string> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
