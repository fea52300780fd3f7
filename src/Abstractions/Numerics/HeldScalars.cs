using TorchSharp;

namespace Distillery.Abstractions.Numerics;

/// <summary>
/// Native scalars that live as long as the process, for the arguments TorchSharp would otherwise make as temporaries.
/// <para>
/// Why: in TorchSharp 0.107 a <see cref="Scalar"/> is a raw native pointer freed by its finalizer, outside every
/// dispose scope. A temporary one — an implicit <c>double → Scalar</c> (<c>x * 2.0</c>, <c>x.add_(b)</c>), or the
/// alpha 1 that <c>Tensor.add(Tensor)</c> and <c>Tensor.square()</c>'s exponent 2 make inside TorchSharp — is
/// unreachable once its handle is read, so a garbage collection started by another thread while libtorch runs can
/// free it under libtorch's feet: "Unknown scalar type" at random in long runs, or a wrong value
/// (benchmarks/ScalarLifetimeStress reproduces it). Hence the rule in Distillery's tensor code: every Scalar handed
/// to TorchSharp is held — a <c>using var s = value.ToScalar()</c> around the call, or one of these — and the
/// overloads that make hidden temporaries are avoided (<c>a.add(b, HeldScalars.One)</c> rather than <c>a + b</c>,
/// <c>x.mul(x)</c> rather than <c>x.square()</c>). The test NativeScalarTests reads the IL of every Distillery
/// assembly and fails on any call that breaks the rule.
/// </para>
/// </summary>
public static class HeldScalars
{
    /// <summary>1.0 (float64): the alpha of <c>add</c>/<c>add_</c> on floating-point tensors. Never disposed.</summary>
    public static Scalar One { get; } = 1.0.ToScalar();

    /// <summary>1 (int64): the alpha of <c>add</c>/<c>add_</c> on integer tensors, which refuse a floating alpha. Never disposed.</summary>
    public static Scalar OneInteger { get; } = 1L.ToScalar();
}
