namespace Distillery.Kernels.Layers;

/// <summary>
/// A fully-connected layer in NTK parameterisation: Σ′ = W²Σ + b², Θ′ = Σ′ + W²Θ.
/// </summary>
public sealed record Dense(double WeightStd, double BiasStd) : IKernelLayer
{
    public KernelState Apply(KernelState input)
    {
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
