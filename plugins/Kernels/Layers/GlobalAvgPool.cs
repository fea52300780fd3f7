using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// Global average pooling of an image state (neural-tangents stax.GlobalAvgPool): the mean over all pixel pairs
/// (p, p′), giving a flat state; the feature is the mean over pixels, so every pixel pair contributes to its
/// covariance, and the layer needs every pair of its input (reach H − 1, W − 1).
/// </summary>
public sealed record GlobalAvgPool : IKernelLayer
{
    /// <inheritdoc/>
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("GlobalAvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        var (height, width) = (input.Nngp.shape[^2], input.Nngp.shape[^1]);
        if (PixelBand.Reach(input.Nngp) != new PixelReach(height - 1, width - 1))
            throw new InvalidOperationException("GlobalAvgPool needs every pixel pair of its input.");
        using var pairs = ((double)(height * width * height * width)).ToScalar(); // held for the native calls (see HeldScalars)
        Tensor Mean(Tensor band) => PixelBand.SumOfAll(band).div_(pairs); // the entries outside the image are zero
        var nngp = Mean(input.Nngp);
        var ntk = input.Ntk is null ? null : ReferenceEquals(input.Ntk, input.Nngp) ? nngp : Mean(input.Ntk);
        return new KernelState(nngp, ntk, null, null);
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input) => input is null
        ? throw new InvalidOperationException("GlobalAvgPool needs a kernel state over pixel pairs (images), not a flat one.")
        : null;

    /// <inheritdoc/>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input) => input is { } grid
        ? new KernelRepresentation.PixelPairs(new PixelReach(grid.Height - 1, grid.Width - 1))
        : throw new InvalidOperationException("GlobalAvgPool needs a kernel state over pixel pairs (images), not a flat one.");

    /// <inheritdoc/>
    public bool UsesVariances => false;
}
