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

/// <summary>
/// A kernel function from a list of layers applied in order. Computed in blocks of image pairs so that a large
/// kernel (say 60,000 × 100) never holds more than one block of intermediates at a time.
/// </summary>
public sealed class Serial(IReadOnlyList<IKernelLayer> layers, KernelOutput output, int blockSize = 8192) : IKernelFunction
{
    public IReadOnlyList<IKernelLayer> Layers { get; } = layers;
    public KernelOutput Output { get; } = output;
    public int BlockSize { get; } = blockSize;

    public Tensor Compute(Tensor x1, Tensor x2)
    {
        if (x1.shape[0] <= BlockSize && x2.shape[0] <= BlockSize) return ComputeBlock(x1, x2);

        var rows = new List<Tensor>();
        for (long i = 0; i < x1.shape[0]; i += BlockSize)
        {
            using var scope = NewDisposeScope();
            var rowBlock = x1.narrow(0, i, Math.Min(BlockSize, x1.shape[0] - i));
            var columns = new List<Tensor>();
            for (long j = 0; j < x2.shape[0]; j += BlockSize)
                columns.Add(ComputeBlock(rowBlock, x2.narrow(0, j, Math.Min(BlockSize, x2.shape[0] - j))));
            rows.Add(cat(columns, 1).MoveToOuterDisposeScope());
        }
        return cat(rows, 0);
    }

    private Tensor ComputeBlock(Tensor x1, Tensor x2)
    {
        using var scope = NewDisposeScope();
        var state = KernelState.FromInputs(x1, x2);
        foreach (var layer in Layers) state = layer.Apply(state);
        var result = Output == KernelOutput.Ntk ? state.Ntk : state.Nngp;
        return result.MoveToOuterDisposeScope();
    }
}
