using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// ReLU (the arc-cosine kernel of degree 1). With s = √max(q₁q₂ − Σ², 0) and θ = atan2(s, Σ):
/// Σ′ = (s + (π − θ)Σ) / 2π, Θ′ = Θ(π − θ) / 2π, variances halve. Written with atan2 rather than arccos
/// because arccos has an infinite derivative at correlation 1 (every diagonal entry of K_ss). For the same
/// reason s is a square root whose gradient is taken as zero where its argument is zero (as neural-tangents does).
/// </summary>
public sealed record Relu : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        var productOfVariances = input.Variance1.unsqueeze(1) * input.Variance2.unsqueeze(0);
        var sine = SafeSqrt(productOfVariances - input.Nngp.square());
        var angle = atan2(sine, input.Nngp);
        var complement = (Math.PI - angle) / (2 * Math.PI);
        return new KernelState(
            sine / (2 * Math.PI) + complement * input.Nngp,
            input.Ntk * complement,
            input.Variance1 / 2,
            input.Variance2 / 2);
    }

    /// <summary>√max(x, 0) with a zero (not infinite) gradient where x ≤ 0.</summary>
    private static Tensor SafeSqrt(Tensor x)
    {
        var positive = x > 0;
        return where(positive, x.where(positive, 1).sqrt(), 0);
    }
}
