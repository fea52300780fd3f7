using Distillery.Abstractions.Architectures;
using Distillery.Kernels.Layers;

namespace Distillery.Kernels;

/// <summary>
/// The exact infinite-width kernel (NTK or NNGP, NTK parameterisation) of a network description: each description layer
/// becomes its kernel layer, one to one (stax's kernel_fn), composed by <see cref="Serial"/>, which derives from the list
/// the cheapest representation of the input. The widths of the description (Conv channels, Dense outputs) do not enter
/// an infinite-width kernel.
/// </summary>
public static class ArchitectureKernel
{
    /// <summary>The kernel of <paramref name="architecture"/>, tiled by <paramref name="blocking"/>.</summary>
    /// <exception cref="ArchitectureException">A layer has no infinite-width kernel (instance norm).</exception>
    public static Serial Create(Architecture architecture, KernelOutput output, KernelBlocking blocking) =>
        new(Layers(architecture), output, blocking);

    /// <summary>The kernel layers of <paramref name="architecture"/>, in its order.</summary>
    /// <exception cref="ArchitectureException">A layer has no infinite-width kernel (instance norm); the message names it.</exception>
    public static IReadOnlyList<IKernelLayer> Layers(Architecture architecture) =>
        architecture.Layers.Select((layer, i) => KernelLayer(architecture, i)).ToArray();

    private static IKernelLayer KernelLayer(Architecture architecture, int i) => architecture.Layers[i] switch
    {
        Layer.Conv conv => new Conv(conv.FilterSize, conv.WeightStd, conv.BiasStd),
        Layer.Relu => new Relu(),
        Layer.AvgPool pool => new AvgPool(pool.Window, pool.Stride),
        Layer.Flatten => new Flatten(),
        Layer.GlobalAvgPool => new GlobalAvgPool(),
        Layer.Dense dense => new Dense(dense.WeightStd, dense.BiasStd),
        Layer.InstanceNorm => throw new ArchitectureException(
            $"layer {i + 1} of {architecture}: InstanceNorm has no infinite-width kernel here (it divides each image's channels by " +
            "that image's own spread, which the NTK/NNGP layers do not model); describe the network without it (a transfer network: norm none)"),
        var other => throw new ArchitectureException($"layer {i + 1} of {architecture}: {other} has no kernel layer"),
    };
}
