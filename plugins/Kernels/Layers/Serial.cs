using Distillery.Abstractions.Plugins;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>Which of the two kernels a network's composition yields.</summary>
public enum KernelOutput
{
    /// <summary>The neural tangent kernel: the network trained to convergence by gradient descent.</summary>
    Ntk,
    /// <summary>The NNGP kernel: only the last layer trained (a Bayesian network's prior covariance).</summary>
    Nngp,
}

/// <summary>The input layer of a composition: what the first kernel state is built from.</summary>
public enum KernelInput
{
    /// <summary>Flattened features: Σ = x·x′/d, a flat state (<see cref="KernelState.FromInputs"/>).</summary>
    Features,
    /// <summary>Images over pixel pairs: Σ(p, p′) = x(p)·x′(p′)/C (<see cref="KernelState.FromImages"/>).</summary>
    PixelPairs,
}

/// <summary>
/// A kernel function from a list of layers applied in order. Computed in blocks of image pairs so that a large
/// kernel (say 60,000 × 100) never holds more than one block of intermediates at a time; within a block, each
/// layer's temporaries are freed once the layer is done (they dominate memory for kernels over pixel pairs).
/// </summary>
public sealed class Serial(IReadOnlyList<IKernelLayer> layers, KernelOutput output, KernelBlocking blocking, KernelInput input)
    : IKernelFunction
{
    /// <summary>A composition over flattened features with at most <paramref name="blockSize"/> images per side per block.</summary>
    public Serial(IReadOnlyList<IKernelLayer> layers, KernelOutput output, int blockSize = 8192)
        : this(layers, output, new ImagesPerSide(blockSize), KernelInput.Features)
    {
    }

    public IReadOnlyList<IKernelLayer> Layers { get; } = layers;
    public KernelOutput Output { get; } = output;
    public KernelBlocking Blocking { get; } = blocking;
    public KernelInput Input { get; } = input;

    public Tensor Compute(Tensor x1, Tensor x2)
    {
        var (n1, n2) = (x1.shape[0], x2.shape[0]);
        var (blockRows, blockColumns) = Blocking.BlockShape(n1, n2);
        if (n1 <= blockRows && n2 <= blockColumns) return ComputeBlock(x1, x2);

        var rows = new List<Tensor>();
        for (long i = 0; i < n1; i += blockRows)
        {
            using var scope = NewDisposeScope();
            var rowBlock = x1.narrow(0, i, Math.Min(blockRows, n1 - i));
            var columns = new List<Tensor>();
            for (long j = 0; j < n2; j += blockColumns)
                columns.Add(ComputeBlock(rowBlock, x2.narrow(0, j, Math.Min(blockColumns, n2 - j))));
            rows.Add(cat(columns, 1).MoveToOuterDisposeScope());
        }
        return cat(rows, 0);
    }

    private Tensor ComputeBlock(Tensor x1, Tensor x2)
    {
        using var scope = NewDisposeScope();
        var state = Input == KernelInput.PixelPairs ? KernelState.FromImages(x1, x2) : KernelState.FromInputs(x1, x2);
        foreach (var layer in Layers)
        {
            KernelState next;
            using (NewDisposeScope()) next = layer.Apply(state).MoveToOuterDisposeScope(state);
            state.DisposeExcept(next); // autograd keeps what it saved; this only drops our handles
            state = next;
        }
        if (state.IsSpatial)
            throw new InvalidOperationException("The composition ends on a state over pixel pairs; add Flatten or GlobalAvgPool (and a Dense readout).");
        var result = Output == KernelOutput.Ntk ? state.Ntk : state.Nngp;
        return result.MoveToOuterDisposeScope();
    }
}
