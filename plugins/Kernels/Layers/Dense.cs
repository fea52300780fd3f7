namespace Distillery.Kernels.Layers;

/// <summary>
/// A fully-connected layer in NTK parameterisation: Σ′ = W²Σ + b², Θ′ = Σ′ + W²Θ. Acts on flat states; an image
/// state must go through <see cref="Flatten"/> or <see cref="GlobalAvgPool"/> first.
/// </summary>
public sealed record Dense(double WeightStd, double BiasStd) : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
        if (input.IsSpatial)
            throw new InvalidOperationException("Dense needs a flat kernel state; add Flatten or GlobalAvgPool before it.");
        var weightVariance = WeightStd * WeightStd;
        var biasVariance = BiasStd * BiasStd;
        var nngp = input.Nngp * weightVariance + biasVariance;
        return new KernelState(
            nngp,
            nngp + input.Ntk * weightVariance,
            input.Variance1 * weightVariance + biasVariance,
            input.Variance2 * weightVariance + biasVariance);
    }
}
