using SparOrleans.Models.Generation;
using SparOrleans.Integration.Tests.Prompts;
using SparOrleans.Interfaces.Generation;

namespace SparOrleans.Integration.Tests.Faults;

/// <summary>
/// The scripted backend with fault hooks: it can hold refinement calls (so a test injects a fault while a tree
/// search is certainly in flight) and signal the n-th generation call (a random point of a run, for trials).
/// </summary>
public sealed class GatedBackend : IGenerationBackend
{
    private readonly ScriptedBackend _inner = new();
    private readonly TaskCompletionSource _refinementHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _callReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, int> _failuresLeft = [];
    private volatile TaskCompletionSource? _gate;
    private int _signalAtCall = int.MaxValue;
    private volatile bool _failAll;

    /// <summary>Generation calls answered or in flight so far.</summary>
    public int Calls => _inner.Calls;

    /// <summary>Completes when the first refinement call is being held.</summary>
    public Task RefinementHeld => _refinementHeld.Task;

    /// <summary>Completes when the call counter reaches the value given to <see cref="SignalAtCall"/>.</summary>
    public Task CallReached => _callReached.Task;

    public void HoldRefinements() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public void SignalAtCall(int call) => _signalAtCall = call;

    /// <summary>Every call from now on fails as a generation server that does not answer would.</summary>
    public void FailEveryCall() => _failAll = true;

    /// <summary>
    /// The first <paramref name="calls"/> calls of each kind fail: actor samples, refiner judgments and refinements,
    /// whose first calls come in the sampling, judging and search phases respectively.
    /// </summary>
    public void FailFirstCallsOfEachKind(int calls)
    {
        lock (_failuresLeft)
        {
            foreach (var kind in new[] { "Actor", "Refiner", "Refiner/refine" })
            {
                _failuresLeft[kind] = calls;
            }
        }
    }

    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
        var kind = calls.Any(c => c.Prompt[^1].Content.StartsWith("R|", StringComparison.Ordinal)) ? $"{model.Role}/refine" : $"{model.Role}";
        if (_failAll || TakeFailure(kind))
        {
            throw new TimeoutException($"scripted generation server did not answer ({kind})");
        }
        if (_gate is { } gate && calls.Any(c => c.Prompt[^1].Content.StartsWith("R|", StringComparison.Ordinal)))
        {
            _refinementHeld.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }
        var generated = await _inner.GenerateAsync(model, calls, cancellationToken);
        if (_inner.Calls >= _signalAtCall)
        {
            _callReached.TrySetResult();
        }
        return generated;
    }

    private bool TakeFailure(string kind)
    {
        lock (_failuresLeft)
        {
            if (_failuresLeft.GetValueOrDefault(kind) > 0)
            {
                _failuresLeft[kind]--;
                return true;
            }
            return false;
        }
    }
}
