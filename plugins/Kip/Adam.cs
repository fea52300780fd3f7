using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// Adam (Kingma &amp; Ba) on one tensor, with its moments kept explicit so they can be checkpointed and a
/// resumed run continues bit for bit. β₁ = 0.9, β₂ = 0.999, ε = 1e-8 as in the reference implementation.
/// </summary>
public sealed class Adam(Tensor parameter, double learningRate) : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    public Tensor Parameter { get; } = parameter;
    public Tensor FirstMoment { get; private set; } = zeros_like(parameter);
    public Tensor SecondMoment { get; private set; } = zeros_like(parameter);

    /// <summary>Applies update number <paramref name="step"/> (1-based), in place.</summary>
    public void Update(Tensor gradient, long step)
    {
        using var noGrad = no_grad();
        FirstMoment.mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
        SecondMoment.mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
        var correctedRate = learningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step));
        using var denominator = SecondMoment.sqrt().add_(Epsilon * Math.Sqrt(1 - Math.Pow(Beta2, step)));
        Parameter.addcdiv_(FirstMoment, denominator, value: -correctedRate);
    }

    public void Restore(Tensor firstMoment, Tensor secondMoment)
    {
        using var noGrad = no_grad();
        FirstMoment.copy_(firstMoment);
        SecondMoment.copy_(secondMoment);
    }

    public void Dispose()
    {
        FirstMoment.Dispose();
        SecondMoment.Dispose();
    }
}
