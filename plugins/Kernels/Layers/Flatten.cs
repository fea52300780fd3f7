namespace Distillery.Kernels.Layers;

/// <summary>
/// Flattens an image state for a following <see cref="Dense"/>: the mean of the diagonal (p = p′) entries. A dense
/// weight on the flattened features is independent across pixels, so only same-pixel covariances survive, and the
/// NTK parameterisation's 1/fan-in turns their sum into a mean.
/// </summary>
public sealed record Flatten : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial) return input;
        return new KernelState(
            PixelPairs.MeanOfDiagonal(input.Nngp),
            PixelPairs.MeanOfDiagonal(input.Ntk),
            PixelPairs.MeanOfDiagonal(input.Variance1),
            PixelPairs.MeanOfDiagonal(input.Variance2));
    }
}
