using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.Layers;

namespace Distillery.Kernels;

/// <summary>
/// The exact infinite-width ConvNet (neural-tangents stax; Arora et al. 2019, CNTK; Novak et al. 2019):
/// [Conv3×3(W, b) → ReLU → (AvgPool2×2)] × depth → Flatten | GlobalAvgPool → Dense(W, b). Computed by
/// <see cref="Serial"/> from the network's description over the band of pixel pairs the readout needs: with Flatten and no pooling only same-pixel
/// pairs (cost linear in the pixel count), with Flatten and pooling the pairs within the pools' windows (at 28×28,
/// depth 3: offsets up to ±7 pixels), with GlobalAvgPool all pairs.
/// </summary>
[ExportKernel("convnet", Description = "Convolutional ReLU network of infinite width (exact, over pixel pairs): NTK or NNGP.")]
public sealed class ConvNetKernel : IKernelProvider<ConvNetKernelOptions>
{
    /// <summary>Filter size of every convolution, as in the reference ConvNet.</summary>
    public const int FilterSize = 3;

    /// <inheritdoc/>
    public IKernelFunction Create(RunContext run, ConvNetKernelOptions options) => Build(options);

    /// <summary>The kernel of <paramref name="options"/>' description (<see cref="ConvNetKernelOptions.Describe"/>), in blocks of image pairs.</summary>
    public static Serial Build(ConvNetKernelOptions options) =>
        ArchitectureKernel.Create(options.Describe(), options.Output, new PairsPerBlock(options.BlockSize));
}

/// <summary>Pooling after each conv block.</summary>
public enum ConvNetPooling
{
    /// <summary>AvgPool 2×2, stride 2 (halves the image; 28 → 14 → 7 → 3).</summary>
    Avg,
    /// <summary>No pooling: the resolution stays the input's (and so does the cost of every layer).</summary>
    None,
}

/// <summary>How the last feature map reaches the dense readout.</summary>
public enum ConvNetReadout
{
    /// <summary>Flatten: the mean of the same-pixel covariances.</summary>
    Flatten,
    /// <summary>Global average pooling: the mean over all pixel pairs.</summary>
    GlobalAvg,
}

/// <summary>Options of the <c>convnet</c> kernel (the manifest's <c>kernel.options</c>).</summary>
public sealed class ConvNetKernelOptions
{
    /// <summary>Number of conv blocks.</summary>
    [Range(0, 16), Description("Number of conv blocks [Conv3×3 → ReLU → pooling].")]
    public int Depth { get; set; } = 3;

    /// <summary>Weight standard deviation.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation (NTK parameterisation).")]
    public double WStd { get; set; } = Math.Sqrt(2);

    /// <summary>Bias standard deviation.</summary>
    [Range(0.0, double.MaxValue), Description("Bias standard deviation.")]
    public double BStd { get; set; } = 0.1;

    /// <summary>Pooling after each conv block.</summary>
    [Description("Pooling after each conv block: avg (AvgPool 2×2, stride 2) or none.")]
    public ConvNetPooling Pooling { get; set; } = ConvNetPooling.Avg;

    /// <summary>Readout before the dense layer.</summary>
    [Description("Readout before the final dense layer: flatten or globalAvg.")]
    public ConvNetReadout Readout { get; set; } = ConvNetReadout.Flatten;

    /// <summary>NTK or NNGP.</summary>
    [Description("Which kernel: ntk (trained network) or nngp (last layer only).")]
    public KernelOutput Output { get; set; } = KernelOutput.Ntk;

    /// <summary>Image pairs per block.</summary>
    /// <remarks>
    /// A block's largest tensors are pairs × (2R + 1)² × H × W for the reach R of the first layer: at 28×28, depth 3,
    /// avg pooling, flatten, R = 7, ≈0.7 MB per pair in float32, a handful of them alive at once. Each image's own
    /// state is computed once per kernel call whatever the block size, so larger blocks gain little.
    /// </remarks>
    [Range(1, int.MaxValue), Description("Image pairs per block (bounds memory): a block holds a few tensors of pairs × (band of pixel pairs) entries, ≈0.7 MB each per pair at 28×28, depth 3, avg pooling, in float32.")]
    public int BlockSize { get; set; } = 9;

    /// <summary>
    /// The network these options describe: [Conv(3×3, wStd, bStd) → Relu → (AvgPool 2×2)] × depth → Flatten |
    /// GlobalAvgPool → Dense(wStd, bStd). Its widths are 1: an infinite-width kernel does not depend on them.
    /// </summary>
    // A method, not a property: the host serialises public properties into the resolved manifest.
    public Architecture Describe() => Architecture.ConvNet(
        Depth, width: 1, outputs: 1, WStd, BStd,
        pooling: Pooling == ConvNetPooling.Avg ? new Layer.AvgPool(2) : null,
        readout: Readout == ConvNetReadout.Flatten ? new Layer.Flatten() : new Layer.GlobalAvgPool(),
        filterSize: ConvNetKernel.FilterSize);
}
