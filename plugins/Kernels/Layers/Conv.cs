using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// A size × size convolution, SAME zero padding, stride 1, NTK parameterisation, on a state over pixel pairs
/// (neural-tangents stax.Conv; Arora et al. 2019, CNTK): Σ′(p, p′) = W²·mean_δ Σ(p + δ, p′ + δ) + b²,
/// Θ′ = W²·mean_δ Θ(p + δ, p′ + δ) + Σ′. The offset p′ − p is unchanged, so the output needs the same reach of its
/// input, and each offset is a k×k box mean over the positions (<see cref="PixelBand.BoxSum"/>). On the input layer
/// (Θ = 0) Θ′ is Σ′ itself: nothing is computed for the zero Θ.
/// </summary>
public sealed record Conv(int Size, double WeightStd, double BiasStd) : IKernelLayer
{
    /// <inheritdoc/>
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("Conv needs a kernel state over pixel pairs (images), not a flat one.");
        var (height, width) = (input.Nngp.shape[^2], input.Nngp.shape[^1]);
        using var weightVariance = (WeightStd * WeightStd / (Size * Size)).ToScalar(); // W² and the mean's 1/k², held for the native calls (see HeldScalars)
        using var biasVariance = (BiasStd * BiasStd).ToScalar();
        using var valid = PixelBand.Valid(PixelBand.Reach(input.Nngp), new Grid(height, width), input.Nngp.dtype, input.Nngp.device);
        using var bias = valid.mul(biasVariance); // b² on the pairs inside the image, 0 on the zero padding
        // One pass after the box sum: mask·(W²/k²)·box + b²·mask (the box spills into the entries outside the image).
        Tensor Affine(Tensor covariance, Tensor offset)
        {
            using var box = PixelBand.BoxSum(covariance, Size);
            return addcmul(offset, box, valid, weightVariance);
        }
        var nngp = Affine(input.Nngp, bias);
        return new KernelState(nngp, input.Ntk is null ? nngp : Affine(input.Ntk, nngp), null, null);
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input) =>
        input ?? throw new InvalidOperationException("Conv needs a kernel state over pixel pairs (images), not a flat one.");

    /// <inheritdoc/>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input) => input is null
        ? throw new InvalidOperationException("Conv needs a kernel state over pixel pairs (images), not a flat one.")
        : new KernelRepresentation.PixelPairs(output.ReachOnMap);

    /// <inheritdoc/>
    public bool UsesVariances => false;
}
