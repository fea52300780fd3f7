namespace Distillery.Kernels.Layers;

/// <summary>
/// Global average pooling of an image state: the mean over all pixel pairs (p, p′), giving a flat state; the feature
/// is the mean over pixels, so every pixel pair contributes to its covariance.
/// </summary>
public sealed record GlobalAvgPool : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("GlobalAvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        return new KernelState(
            PixelPairs.MeanOfAll(input.Nngp),
            PixelPairs.MeanOfAll(input.Ntk),
            PixelPairs.MeanOfAll(input.Variance1),
            PixelPairs.MeanOfAll(input.Variance2));
    }
}
