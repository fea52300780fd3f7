using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// Flattens an image state for a following <see cref="Dense"/> (neural-tangents stax.Flatten): the mean of the
/// same-pixel (p = p′) entries. A dense weight on the flattened features is independent across pixels, so only
/// same-pixel covariances survive, and the NTK parameterisation's 1/fan-in turns their sum into a mean. It needs only
/// the flat covariance of its input (the diagonal, reach 0, of a map), which is why a network without pooling never
/// holds off-diagonal pairs, and why a list that starts with Flatten reads its input as x·x′/d.
/// </summary>
public sealed record Flatten : IKernelLayer
{
    /// <inheritdoc/>
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial) return input;
        Tensor Mean(Tensor band) => PixelBand.Center(band).mean([-2, -1]);
        var nngp = Mean(input.Nngp);
        var ntk = input.Ntk is null ? null : ReferenceEquals(input.Ntk, input.Nngp) ? nngp : Mean(input.Ntk);
        return new KernelState(nngp, ntk, null, null);
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input) => null;

    /// <inheritdoc/>
    /// <remarks>The flat covariance of its input — the mean of its same-pixel pairs, or x·x′/d on the network's input.</remarks>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input) => KernelRepresentation.Flat;

    /// <inheritdoc/>
    public bool UsesVariances => false;
}
