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
    private volatile TaskCompletionSource? _gate;
    private int _signalAtCall = int.MaxValue;

    /// <summary>Generation calls answered or in flight so far.</summary>
    public int Calls => _inner.Calls;

    /// <summary>Completes when the first refinement call is being held.</summary>
    public Task RefinementHeld => _refinementHeld.Task;

    /// <summary>Completes when the call counter reaches the value given to <see cref="SignalAtCall"/>.</summary>
    public Task CallReached => _callReached.Task;

    public void HoldRefinements() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public void SignalAtCall(int call) => _signalAtCall = call;

    public async Task<IReadOnlyList<Generated>> GenerateAsync(ModelRef model, IReadOnlyList<GenerationCall> calls, CancellationToken cancellationToken)
    {
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
}
