using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// SGD with momentum on one tensor, as torch.optim.SGD (no dampening, no Nesterov): v ← μ·v + g, p ← p − lr·v. The
/// velocity is explicit so it can be checkpointed and a resumed run continues bit for bit; it starts at zero, which
/// gives torch's first step v = g.
/// </summary>
/// <param name="parameter">The tensor updated in place (the synthetic images); not owned.</param>
/// <param name="learningRate">lr &gt; 0.</param>
/// <param name="momentum">μ ∈ [0, 1) (DC, DSA and DM use 0.5).</param>
public sealed class SgdMomentum(Tensor parameter, double learningRate, double momentum) : IDisposable
{
    /// <summary>The tensor updated in place.</summary>
    public Tensor Parameter { get; } = parameter;

    /// <summary>The velocity v: the parameter's shape, dtype and device; owned by the optimiser.</summary>
    public Tensor Velocity { get; } = zeros_like(parameter);

    /// <summary>Applies one update with <paramref name="gradient"/> (the parameter's shape), in place, without autograd.</summary>
    public void Update(Tensor gradient)
    {
        using var noGrad = no_grad();
        using var mu = momentum.ToScalar(); // held for the native calls (see HeldScalars)
        using var step = (-learningRate).ToScalar();
        Velocity.mul_(mu).add_(gradient, HeldScalars.One);
        Parameter.add_(Velocity, step);
    }

    /// <summary>Sets the velocity from a checkpoint (copied; moved to the velocity's device).</summary>
    public void Restore(Tensor velocity)
    {
        using var noGrad = no_grad();
        Velocity.copy_(velocity);
    }

    /// <summary>Frees the velocity.</summary>
    public void Dispose() => Velocity.Dispose();
}
