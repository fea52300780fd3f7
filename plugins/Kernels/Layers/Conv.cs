using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// A size × size convolution, SAME zero padding, stride 1, NTK parameterisation, on a state over pixel pairs:
/// Σ′(p, p′) = W²·mean_δ Σ(p + δ, p′ + δ) + b², Θ′ = W²·conv(Θ) + Σ′. The self-covariances transform like Σ.
/// </summary>
public sealed record Conv(int Size, double WeightStd, double BiasStd) : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("Conv needs a kernel state over pixel pairs (images), not a flat one.");
        using var weightVariance = (WeightStd * WeightStd).ToScalar(); // held for the native calls (see HeldScalars)
        using var biasVariance = (BiasStd * BiasStd).ToScalar();
        // Scaled in place (a fresh tensor whose scaling's backward needs no values) to avoid full-size temporaries.
        Tensor Affine(Tensor covariance) => PixelPairs.Convolve(covariance, Size).mul_(weightVariance).add_(biasVariance, HeldScalars.One);
        var nngp = Affine(input.Nngp);
        return new KernelState(
            nngp,
            PixelPairs.Convolve(input.Ntk, Size).mul_(weightVariance).add_(nngp, HeldScalars.One),
            Affine(input.Variance1),
            Affine(input.Variance2));
    }
}
