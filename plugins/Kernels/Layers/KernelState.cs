using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// What flows between kernel layers, as in neural-tangents' stax: the NNGP covariance Σ and the NTK Θ between
/// two batches, and each input's own covariance that nonlinearities need. A state is either
/// <list type="bullet">
/// <item><b>flat</b>: Σ, Θ are [n1, n2]; the own covariances are the variances [n1] and [n2]; or</item>
/// <item><b>spatial</b> (over pixel pairs): Σ, Θ are [n1, n2, H, W, H, W]; the own covariances are each image's
/// full self-covariance [n1, H, W, H, W] and [n2, H, W, H, W]. The full one (not only its diagonal) is kept because
/// after an average pool a pixel's variance mixes neighbouring off-diagonal entries.</item>
/// </list>
/// </summary>
public sealed record KernelState(Tensor Nngp, Tensor Ntk, Tensor Variance1, Tensor Variance2)
{
    /// <summary>True for a state over pixel pairs ([n1, n2, H, W, H, W]).</summary>
    public bool IsSpatial => Nngp.dim() == 6;

    /// <summary>
    /// The input layer: Σ = x·x′ / d over the flattened features, Θ = 0.
    /// </summary>
    public static KernelState FromInputs(Tensor x1, Tensor x2)
    {
        var flat1 = x1.flatten(1);
        var flat2 = x2.flatten(1);
        using var features = ((double)flat1.shape[1]).ToScalar(); // held for the native calls (see HeldScalars)
        var nngp = flat1.matmul(flat2.t()).div(features);
        return new KernelState(
            nngp,
            zeros_like(nngp),
            flat1.mul(flat1).sum(1).div(features),
            flat2.mul(flat2).sum(1).div(features));
    }

    /// <summary>
    /// The input layer over pixel pairs, for images [n, C, H, W]: Σ(p, p′) = x(p)·x′(p′) / C (neural-tangents' full
    /// spatial covariance), Θ = 0, and each image's self-covariance the same way.
    /// </summary>
    public static KernelState FromImages(Tensor x1, Tensor x2)
    {
        if (x1.dim() != 4 || x2.dim() != 4)
            throw new ArgumentException($"Pixel-pair kernels need images [n, C, H, W]; got [{string.Join(", ", x1.shape)}] and [{string.Join(", ", x2.shape)}].");
        using var channels = ((double)x1.shape[1]).ToScalar(); // held for the native calls (see HeldScalars)
        var nngp = einsum("aihw,bijk->abhwjk", x1, x2).div(channels);
        return new KernelState(
            nngp,
            zeros_like(nngp),
            einsum("aihw,aijk->ahwjk", x1, x1).div(channels),
            einsum("aihw,aijk->ahwjk", x2, x2).div(channels));
    }

    /// <summary>
    /// Moves the tensors a layer created (those not shared with its <paramref name="input"/>, which already live in
    /// the outer scope) to the enclosing dispose scope. Lets <see cref="Serial"/> free each layer's temporaries.
    /// </summary>
    public KernelState MoveToOuterDisposeScope(KernelState input)
    {
        foreach (var tensor in Tensors)
            if (!input.Uses(tensor)) tensor.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Disposes this state's tensors except those <paramref name="successor"/> still uses.</summary>
    public void DisposeExcept(KernelState successor)
    {
        foreach (var tensor in Tensors)
            if (!successor.Uses(tensor)) tensor.Dispose();
    }

    private bool Uses(Tensor tensor) => Tensors.Any(own => ReferenceEquals(own, tensor));

    private IEnumerable<Tensor> Tensors => [Nngp, Ntk, Variance1, Variance2];
}

/// <summary>One layer of an infinite-width network, as a map between kernel states.</summary>
public interface IKernelLayer
{
    KernelState Apply(KernelState input);
}
