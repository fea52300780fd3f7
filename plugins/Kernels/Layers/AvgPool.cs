namespace Distillery.Kernels.Layers;

/// <summary>
/// Average pooling over window × window patches with the given stride (VALID padding) on a state over pixel pairs:
/// both pixel indices of Σ, Θ and the self-covariances are averaged over their windows. No weights, so Θ pools like Σ.
/// </summary>
public sealed record AvgPool(int Window, int Stride) : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("AvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        var (height, width) = (input.Nngp.shape[2], input.Nngp.shape[3]);
        if (height < Window || width < Window)
            throw new InvalidOperationException($"AvgPool {Window}×{Window} does not fit a {height}×{width} feature map; use fewer pooled layers or larger images.");
        return new KernelState(
            PixelPairs.AveragePool(input.Nngp, Window, Stride),
            PixelPairs.AveragePool(input.Ntk, Window, Stride),
            PixelPairs.AveragePool(input.Variance1, Window, Stride),
            PixelPairs.AveragePool(input.Variance2, Window, Stride));
    }
}
