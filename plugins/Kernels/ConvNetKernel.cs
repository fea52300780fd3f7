using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.Layers;

namespace Distillery.Kernels;

/// <summary>
/// The exact infinite-width ConvNet: [Conv3×3(W, b) → ReLU → (AvgPool2×2)] × depth → Flatten | GlobalAvgPool →
/// Dense(W, b), over pixel pairs. Its cost per kernel entry grows with the square of the pixel count.
/// </summary>
[ExportKernel("convnet", Description = "Convolutional ReLU network of infinite width (exact, over pixel pairs): NTK or NNGP.")]
public sealed class ConvNetKernel : IKernelProvider<ConvNetKernelOptions>
{
    /// <summary>Filter size of every convolution, as in the reference ConvNet.</summary>
    public const int FilterSize = 3;

    public IKernelFunction Create(RunContext run, ConvNetKernelOptions options) => Build(options);

    public static Serial Build(ConvNetKernelOptions options)
    {
        var layers = new List<IKernelLayer>();
        for (var i = 0; i < options.Depth; i++)
        {
            layers.Add(new Conv(FilterSize, options.WStd, options.BStd));
            layers.Add(new Relu());
            if (options.Pooling == ConvNetPooling.Avg) layers.Add(new AvgPool(2, 2));
        }
        layers.Add(options.Readout == ConvNetReadout.Flatten ? new Flatten() : new GlobalAvgPool());
        layers.Add(new Dense(options.WStd, options.BStd));
        return new Serial(layers, options.Output, new PairsPerBlock(options.BlockSize), KernelInput.PixelPairs);
    }
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

public sealed class ConvNetKernelOptions
{
    [Range(0, 16), Description("Number of conv blocks [Conv3×3 → ReLU → pooling].")]
    public int Depth { get; set; } = 3;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation (NTK parameterisation).")]
    public double WStd { get; set; } = Math.Sqrt(2);

    [Range(0.0, double.MaxValue), Description("Bias standard deviation.")]
    public double BStd { get; set; } = 0.1;

    [Description("Pooling after each conv block: avg (AvgPool 2×2, stride 2) or none.")]
    public ConvNetPooling Pooling { get; set; } = ConvNetPooling.Avg;

    [Description("Readout before the final dense layer: flatten or globalAvg.")]
    public ConvNetReadout Readout { get; set; } = ConvNetReadout.Flatten;

    [Description("Which kernel: ntk (trained network) or nngp (last layer only).")]
    public KernelOutput Output { get; set; } = KernelOutput.Ntk;

    /// <remarks>
    /// Measured at 28×28×1, depth 3: 9 pairs (3×3 images) peak at about 0.3 GB in float32 (16 pairs: 0.5 GB; float64
    /// 0.75 GB). Larger blocks save little time, since every block also recomputes its images' self-covariances.
    /// </remarks>
    [Range(1, int.MaxValue), Description("Image pairs per block (bounds memory): a block holds several tensors of pairs × (H·W)² entries, ≈2.5 MB each per pair at 28×28 in float32.")]
    public int BlockSize { get; set; } = 9;
}
