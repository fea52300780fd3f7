using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace DistilleryPlugin1;

/// <summary>
/// k(x, x′) = exp(−‖x − x′‖² / (2 ℓ² d)) between two batches of images, differentiable with respect to both (KIP
/// takes gradients through it to the support images).
/// </summary>
/// <param name="lengthScale">ℓ, per pixel, in the units of the preprocessed images (standard deviations after <c>standardize</c>).</param>
public sealed class GaussianKernelFunction(double lengthScale) : IKernelFunction
{
    /// <summary>The kernel matrix [n1, n2] between images x1 [n1, C, H, W] and x2 [n2, C, H, W].</summary>
    /// <remarks>
    /// On the inputs' device and in their dtype; the caller owns the result, intermediates are disposed here.
    /// ‖x − x′‖² is expanded as ‖x‖² + ‖x′‖² − 2 x·x′ (one matrix product, no [n1, n2, d] tensor) and clamped at 0,
    /// where rounding could make it slightly negative. Every Scalar passed to libtorch is held for the call: a
    /// temporary one can be freed by a garbage collection on another thread while libtorch reads it.
    /// </remarks>
    public Tensor Compute(Tensor x1, Tensor x2)
    {
        using var scope = NewDisposeScope();
        var a = x1.flatten(1);
        var b = x2.flatten(1);
        var squared1 = a.mul(a).sum(1, keepdim: true);            // [n1, 1]
        var squared2 = b.mul(b).sum(1).unsqueeze(0);              // [1, n2]
        using var minusTwo = (-2.0).ToScalar();
        using var zero = 0.0.ToScalar();
        var distances = squared1.add(squared2, HeldScalars.One).add(a.matmul(b.t()), minusTwo).clamp_min(zero);
        using var scale = (-1.0 / (2.0 * lengthScale * lengthScale * a.shape[1])).ToScalar();
        return distances.mul(scale).exp().MoveToOuterDisposeScope();
    }
}
