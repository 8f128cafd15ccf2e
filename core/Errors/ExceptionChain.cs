namespace SparOrleans.Core.Errors;

/// <summary>
/// Every exception behind one: its inner exceptions, and each of an <see cref="AggregateException"/>'s. Hosts and
/// grain calls wrap the failure that says what went wrong (a start that failed in a lifecycle stage, a fan-out).
/// </summary>
public static class ExceptionChain
{
    public static IEnumerable<Exception> Of(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
            if (x is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Of))
                {
                    yield return inner;
                }
            }
        }
    }
}
