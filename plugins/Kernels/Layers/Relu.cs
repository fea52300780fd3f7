using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// ReLU (the arc-cosine kernel of degree 1). With s = √max(q₁q₂ − Σ², 0) and θ = atan2(s, Σ):
/// Σ′ = (s + (π − θ)Σ) / 2π, Θ′ = Θ(π − θ) / 2π. Written with atan2 rather than arccos
/// because arccos has an infinite derivative at correlation 1 (every diagonal entry of K_ss). For the same
/// reason s is a square root whose gradient is taken as zero where its argument is zero (as neural-tangents does).
/// On a flat state q₁, q₂ are the two inputs' variances, which halve. On a state over pixel pairs q₁ is image 1's
/// variance at p and q₂ image 2's at p′; each self-covariance goes through the same map with its own variances.
/// </summary>
public sealed record Relu : IKernelLayer
{
    public KernelState Apply(KernelState input) => input.IsSpatial ? ApplySpatial(input) : ApplyFlat(input);

    private static KernelState ApplyFlat(KernelState input)
    {
        var (nngp, complement) = ArcCosine(input.Nngp, input.Variance1.unsqueeze(1), input.Variance2.unsqueeze(0));
        using var two = 2.0.ToScalar(); // held for the native calls (see HeldScalars)
        return new KernelState(nngp, input.Ntk * complement, input.Variance1.div(two), input.Variance2.div(two));
    }

    private static KernelState ApplySpatial(KernelState input)
    {
        var q1 = PixelPairs.Diagonal(input.Variance1); // [n1, H, W]
        var q2 = PixelPairs.Diagonal(input.Variance2); // [n2, H, W]
        var (n1, height, width) = (q1.shape[0], q1.shape[1], q1.shape[2]);
        var n2 = q2.shape[0];
        var (nngp, complement) = ArcCosine(input.Nngp, q1.view(n1, 1, height, width, 1, 1), q2.view(1, n2, 1, 1, height, width));
        return new KernelState(nngp, input.Ntk * complement, SelfCovariance(input.Variance1, q1), SelfCovariance(input.Variance2, q2));
    }

    /// <summary>An image's own covariance [n, H, W, H, W] through the ReLU, with its variances q [n, H, W].</summary>
    private static Tensor SelfCovariance(Tensor covariance, Tensor q)
    {
        var (n, height, width) = (q.shape[0], q.shape[1], q.shape[2]);
        return ArcCosine(covariance, q.view(n, height, width, 1, 1), q.view(n, 1, 1, height, width)).Nngp;
    }

    /// <summary>
    /// Σ′ and the NTK factor (π − θ)/2π from Σ and the variances q₁, q₂ (broadcastable to Σ). Over pixel pairs every
    /// temporary is as large as Σ, so each is disposed as soon as it is used (autograd keeps its own references to
    /// what it saved) and updated in place where the operation's backward needs none of its values.
    /// </summary>
    private static (Tensor Nngp, Tensor Complement) ArcCosine(Tensor nngp, Tensor q1, Tensor q2)
    {
        using var scope = NewDisposeScope();
        Tensor sine;
        using var pi = Math.PI.ToScalar(); // held for the native calls (see HeldScalars)
        using var twoPi = (2 * Math.PI).ToScalar();
        using (var gap = q1 * q2)
        using (var square = nngp.mul(nngp))
            sine = SafeSqrt(gap.sub_(square));
        var complement = atan2(sine, nngp).neg_().add_(pi, HeldScalars.One).div_(twoPi); // atan2's backward needs its inputs only
        var result = complement * nngp;
        using (var scaledSine = sine.div(twoPi)) result.add_(scaledSine, HeldScalars.One);
        return (result.MoveToOuterDisposeScope(), complement.MoveToOuterDisposeScope());
    }

    /// <summary>√max(x, 0) with a zero (not infinite) gradient where x ≤ 0.</summary>
    private static Tensor SafeSqrt(Tensor x)
    {
        using var zero = 0.0.ToScalar(); // held for the native calls (see HeldScalars)
        using var notPositive = x.gt(zero).logical_not_(); // NaN counts as not positive, as before
        using var safe = x.masked_fill(notPositive, HeldScalars.One); // masked entries get no gradient
        using var root = safe.sqrt();
        return root.masked_fill(notPositive, zero);
    }
}
