using Distillery.Abstractions.Numerics;
using TorchSharp;
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

    /// <summary>
    /// Applies update number <paramref name="step"/> (1-based), in place, with the learning rate times
    /// <paramref name="rateFactor"/> (a schedule's factor for this step; 1 keeps the rate given at construction).
    /// </summary>
    public void Update(Tensor gradient, long step, double rateFactor = 1)
    {
        using var noGrad = no_grad();
        // Every Scalar is held for its native call (see HeldScalars).
        using var beta1 = Beta1.ToScalar();
        using var gain1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var gain2 = (1 - Beta2).ToScalar();
        FirstMoment.mul_(beta1).add_(gradient, gain1);
        SecondMoment.mul_(beta2).addcmul_(gradient, gradient, gain2);
        using var stepSize = (-learningRate * rateFactor * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step))).ToScalar();
        using var epsilon = (Epsilon * Math.Sqrt(1 - Math.Pow(Beta2, step))).ToScalar();
        using var denominator = SecondMoment.sqrt().add_(epsilon, HeldScalars.One);
        Parameter.addcdiv_(FirstMoment, denominator, stepSize);
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
