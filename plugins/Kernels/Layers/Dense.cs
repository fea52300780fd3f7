using Distillery.Abstractions.Numerics;
using TorchSharp;

namespace Distillery.Kernels.Layers;

/// <summary>
/// A fully-connected layer in NTK parameterisation (neural-tangents stax.Dense): Σ′ = W²Σ + b², Θ′ = Σ′ + W²Θ; the
/// variances (when present) map like Σ. Acts on flat states; an image state must go through <see cref="Flatten"/> or
/// <see cref="GlobalAvgPool"/> first (only the network's input is read flat when a Dense comes first).
/// </summary>
public sealed record Dense(double WeightStd, double BiasStd) : IKernelLayer
{
    /// <inheritdoc/>
    public KernelState Apply(KernelState input)
    {
        if (input.IsSpatial) throw SpatialInput();
        // Held for the native calls (see HeldScalars): the issue-13 "Unknown scalar type" came from here.
        using var weightVariance = (WeightStd * WeightStd).ToScalar();
        using var biasVariance = (BiasStd * BiasStd).ToScalar();
        var nngp = input.Nngp.mul(weightVariance).add(biasVariance, HeldScalars.One);
        return new KernelState(
            nngp,
            input.Ntk is null ? nngp : nngp.add(input.Ntk.mul(weightVariance), HeldScalars.One),
            input.Variance1?.mul(weightVariance).add(biasVariance, HeldScalars.One),
            input.Variance2?.mul(weightVariance).add(biasVariance, HeldScalars.One));
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input) => input is null ? null : throw SpatialInput();

    /// <inheritdoc/>
    /// <remarks>Always the flat covariance: a list that starts with a Dense reads its input images flat (x·x′/d), as a
    /// fully-connected network does; elsewhere <see cref="OutputGrid"/> refuses a spatial input.</remarks>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input) => KernelRepresentation.Flat;

    /// <inheritdoc/>
    public bool UsesVariances => false;

    private static InvalidOperationException SpatialInput() =>
        new("Dense needs a flat kernel state; add Flatten or GlobalAvgPool before it.");
}
