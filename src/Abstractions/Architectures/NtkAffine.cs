using Distillery.Abstractions.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Architectures;

/// <summary>
/// An affine layer in the NTK parameterisation of neural-tangents (Jacot et al. 2018; stax.Dense / stax.Conv with
/// parameterization='ntk'): its parameters ω (weight) and β (bias) are drawn ~ N(0, 1) (<see cref="ParameterInit"/>)
/// and the layer computes (W_std/√fan_in)·ω ⋆ x + b_std·β. At init, a layer's outputs then have the covariance
/// W_std²·(mean over its fan-in of input products) + b_std² — the kernels' Dense and Conv rules — and gradient
/// descent on ω, β is gradient flow in the kernel's NTK. The scale factors are held native Scalars (see
/// <see cref="HeldScalars"/>), owned by the layer and freed with it. Parameters are named <c>weight</c> and
/// <c>bias</c>, like torch's layers.
/// </summary>
public abstract class NtkAffine : nn.Module<Tensor, Tensor>
{
    private readonly Scalar _weightScale;
    private readonly Scalar _biasScale;

    /// <param name="name">The module's type name.</param>
    /// <param name="weightShape">ω's shape, outputs first; fan_in is the product of the rest.</param>
    /// <param name="weightStd">W_std (&gt; 0).</param>
    /// <param name="biasStd">b_std (≥ 0; 0 leaves β in place with no effect).</param>
    protected NtkAffine(string name, long[] weightShape, double weightStd, double biasStd) : base(name)
    {
        FanIn = weightShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        _weightScale = (weightStd / Math.Sqrt(FanIn)).ToScalar();
        _biasScale = biasStd.ToScalar();
        // Zeros until ParameterInit draws them from the network's generator (never from the global one).
        register_parameter("weight", new Parameter(zeros(weightShape)));
        register_parameter("bias", new Parameter(zeros(weightShape[0])));
    }

    /// <summary>Inputs per output unit: in·k·k for a convolution, in for a dense layer.</summary>
    public long FanIn { get; }

    /// <summary>ω [outputs, …], drawn ~ N(0, 1).</summary>
    public Parameter Weight => get_parameter("weight")!;

    /// <summary>β [outputs], drawn ~ N(0, 1).</summary>
    public Parameter Bias => get_parameter("bias")!;

    /// <summary>The effective weight (W_std/√fan_in)·ω: scaling the weight costs less than scaling every activation, same function.</summary>
    protected Tensor ScaledWeight() => Weight.mul(_weightScale);

    /// <summary>The effective bias b_std·β.</summary>
    protected Tensor ScaledBias() => Bias.mul(_biasScale);

    /// <summary>Frees the held scale Scalars with the module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _weightScale.Dispose();
            _biasScale.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>NTK-parameterised dense layer: [n, in] → [n, out], (W_std/√in)·x ωᵀ + b_std·β (neural-tangents' stax.Dense).</summary>
public sealed class NtkDense(long inputs, long outputs, double weightStd, double biasStd)
    : NtkAffine("NtkDense", [outputs, inputs], weightStd, biasStd)
{
    /// <summary>x [n, in] (the network's dtype and device) → [n, out].</summary>
    public override Tensor forward(Tensor input)
    {
        using var weight = ScaledWeight();
        using var bias = ScaledBias();
        return nn.functional.linear(input, weight, bias);
    }
}

/// <summary>
/// NTK-parameterised k×k convolution, stride 1, SAME zero padding (odd k): [n, in, H, W] → [n, out, H, W], fan_in = in·k·k
/// (neural-tangents' stax.Conv; the kernels' Conv layer averages over the same k·k offsets, the zero padding included).
/// </summary>
public sealed class NtkConv2d(long inputs, long outputs, int size, double weightStd, double biasStd)
    : NtkAffine("NtkConv2d", [outputs, inputs, size, size], weightStd, biasStd)
{
    /// <summary>x [n, in, H, W] → [n, out, H, W].</summary>
    public override Tensor forward(Tensor input)
    {
        using var weight = ScaledWeight();
        using var bias = ScaledBias();
        return nn.functional.conv2d(input, weight, bias, padding: [size / 2, size / 2]);
    }
}
