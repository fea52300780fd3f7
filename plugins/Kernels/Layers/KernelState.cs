using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// What flows between kernel layers, as in neural-tangents' stax: the NNGP covariance Σ and the NTK Θ between
/// two batches ([n1, n2]), and each input's own variance ([n1] and [n2]) that nonlinearities need.
/// </summary>
public sealed record KernelState(Tensor Nngp, Tensor Ntk, Tensor Variance1, Tensor Variance2)
{
    /// <summary>
    /// The input layer: Σ = x·x′ / d over the flattened features, Θ = 0.
    /// </summary>
    public static KernelState FromInputs(Tensor x1, Tensor x2)
    {
        var flat1 = x1.flatten(1);
        var flat2 = x2.flatten(1);
        var features = flat1.shape[1];
        var nngp = flat1.matmul(flat2.t()) / features;
        return new KernelState(
            nngp,
            zeros_like(nngp),
            flat1.square().sum(1) / features,
            flat2.square().sum(1) / features);
    }
}

/// <summary>One layer of an infinite-width network, as a map between kernel states.</summary>
public interface IKernelLayer
{
    KernelState Apply(KernelState input);
}
