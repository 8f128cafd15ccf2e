using static TorchSharp.torch;

namespace SparOrleans.Engine.Model;

/// <summary>
/// Gradient checkpointing for one decoder layer, as PyTorch's reentrant <c>checkpoint</c>: the forward runs without
/// building a graph and keeps only the layer's input; the backward recomputes the layer with gradients on and
/// backpropagates through it, which accumulates the layer's parameter gradients and returns the input's. The random
/// generator is rewound for the recomputation, so LoRA dropout draws the same mask twice.
/// </summary>
internal sealed class LayerCheckpoint : autograd.SingleTensorFunction<LayerCheckpoint>
{
    public override string Name => "LayerCheckpoint";

    private sealed record RngState(Tensor State);

    public static Tensor Apply(Tensor input, Func<Tensor, Tensor> layer, SharedInputs shared) => apply(input, layer, shared);

    /// <summary>
    /// Tensors every layer's recomputation reads (rotary tables, the mask). The forward's dispose scope would free
    /// them before the backward runs, so they are taken out of it and freed after the last layer's backward.
    /// </summary>
    public sealed class SharedInputs
    {
        private readonly Tensor?[] _tensors;
        private int _users;

        public SharedInputs(int users, params Tensor?[] tensors)
        {
            _users = users;
            _tensors = tensors;
            foreach (var t in tensors)
            {
                t?.DetachFromDisposeScope();
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                foreach (var t in _tensors)
                {
                    t?.Dispose();
                }
            }
        }
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var layer = (Func<Tensor, Tensor>)vars[1];
        ctx.save_for_backward([input]);
        ctx.save_data("layer", layer);
        ctx.save_data("shared", vars[2]);
        // Wrapped: TorchSharp warns on stdout when save_data is handed a tensor, which would corrupt --format json.
        ctx.save_data("rng", new RngState(random.get_rng_state().DetachFromDisposeScope()));
        return layer(input);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var input = ctx.get_saved_variables()[0];
        var layer = (Func<Tensor, Tensor>)ctx.get_data("layer");
        var saved = (RngState)ctx.get_data("rng");
        var current = random.get_rng_state();
        random.set_rng_state(saved.State);
        try
        {
            // Its own scope: the recomputed activations are freed as soon as this layer's backward is done, not when
            // the caller's micro-batch ends (which would keep every layer's, defeating the point).
            using var scope = NewDisposeScope();
            using var grad = enable_grad();
            var detached = input.detach().requires_grad_(true);
            var output = layer(detached);
            output.backward([gradOutput]);
            // One gradient per argument of apply: only the input has one.
            return [detached.grad!.MoveToOuterDisposeScope(), null!, null!];
        }
        finally
        {
            random.set_rng_state(current);
            current.Dispose();
            saved.State.Dispose();
            ((SharedInputs)ctx.get_data("shared")).Release();
        }
    }
}
