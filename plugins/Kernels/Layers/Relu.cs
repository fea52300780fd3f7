using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// ReLU, the arc-cosine kernel of degree 1 (neural-tangents stax.Relu; Cho &amp; Saul 2009). With q₁, q₂ the two
/// inputs' variances, s = √max(q₁q₂ − Σ², 0) and θ = atan2(s, Σ): Σ′ = (s + (π − θ)Σ) / 2π, Θ′ = Θ(π − θ) / 2π.
/// Written with atan2 rather than arccos because arccos has an infinite derivative at correlation 1 (every diagonal
/// entry of K_ss); for the same reason s = √relu(·) has a zero (not infinite) gradient where its argument is zero:
/// relu's backward selects zero there, whatever √'s backward gave (neural-tangents does the same with a safe sqrt).
/// On a flat state the variances halve. Over pixel pairs q₁ is image 1's variance at p and q₂ image 2's at the partner
/// p′ (<see cref="PixelBand.AtPartners"/>); the variances come from <see cref="Serial"/>, which computes each image's
/// once, so this layer asks for them (<see cref="UsesVariances"/>).
/// </summary>
public sealed record Relu : IKernelLayer
{
    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The input carries no variances.</exception>
    public KernelState Apply(KernelState input)
    {
        var q1 = input.Variance1 ?? throw new InvalidOperationException("Relu needs the variances of its inputs.");
        var q2 = input.Variance2 ?? throw new InvalidOperationException("Relu needs the variances of its inputs.");
        if (!input.IsSpatial)
        {
            var (nngp, ntk) = ArcCosine(input.Nngp, input.Ntk, q1, q2, valid: null);
            using var two = 2.0.ToScalar(); // held for the native calls (see HeldScalars)
            return new KernelState(nngp, ntk, q1.div(two), q2.div(two));
        }
        using var scope = NewDisposeScope();
        var reach = PixelBand.Reach(input.Nngp);
        var grid = new Grid(input.Nngp.shape[^2], input.Nngp.shape[^1]);
        using var valid = PixelBand.Valid(reach, grid, input.Nngp.dtype, input.Nngp.device);
        // A partner outside the image has Σ = 0; a variance of 1 there (not 0) keeps atan2 away from (0, 0), whose
        // gradient is NaN; the entry itself is masked to zero. The partners' view is made contiguous (it is as large
        // as one row of the block): otherwise q₁q₂ takes its permuted layout, and every later operation mixing it with
        // Σ falls off the vectorised path (atan2 was 15× slower).
        var partners = PixelBand.AtPartners(q2, reach, fill: 1).contiguous();
        var (bandNngp, bandNtk) = ArcCosine(input.Nngp, input.Ntk, q1.unsqueeze(-3).unsqueeze(-3), partners, valid);
        bandNngp.MoveToOuterDisposeScope();
        bandNtk?.MoveToOuterDisposeScope();
        return new KernelState(bandNngp, bandNtk, null, null);
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input) => input;

    /// <inheritdoc/>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input) =>
        input is null ? KernelRepresentation.Flat : new KernelRepresentation.PixelPairs(output.ReachOnMap);

    /// <inheritdoc/>
    public bool UsesVariances => true;

    /// <summary>
    /// Σ′ and Θ′ from Σ, Θ (null: zero; the same tensor as Σ: the product is shared) and the variances q₁, q₂
    /// (broadcastable to Σ); Σ′ is multiplied by <paramref name="valid"/> when given. Every temporary is as large as
    /// Σ, so each is disposed as soon as it is used (autograd keeps its own references to what it saved) and updated in
    /// place where the operation's backward needs none of its values.
    /// </summary>
    private static (Tensor Nngp, Tensor? Ntk) ArcCosine(Tensor nngp, Tensor? ntk, Tensor q1, Tensor q2, Tensor? valid)
    {
        using var scope = NewDisposeScope();
        using var pi = Math.PI.ToScalar(); // held for the native calls (see HeldScalars)
        using var twoPi = (2 * Math.PI).ToScalar();
        using var inverseTwoPi = (1 / (2 * Math.PI)).ToScalar();
        Tensor sine;
        using (var gap = q1 * q2)
        using (var square = nngp.mul(nngp))
            sine = gap.sub_(square).relu_().sqrt();
        var complement = atan2(sine, nngp).neg_().add_(pi, HeldScalars.One).div_(twoPi); // atan2's backward needs its inputs only
        var product = complement * nngp;
        var ntkOut = ntk is null ? null : ReferenceEquals(ntk, nngp) ? product : ntk * complement;
        var nngpOut = valid is null ? product.add(sine, inverseTwoPi) : addcmul(product, sine, valid, inverseTwoPi);
        ntkOut?.MoveToOuterDisposeScope();
        return (nngpOut.MoveToOuterDisposeScope(), ntkOut);
    }
}
