using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.Layers;

namespace Distillery.Kernels;

/// <summary>
/// The infinite-width fully-connected ReLU network: Flatten → [Dense(W, b) → ReLU] × depth → Dense(W, b), derived from
/// its description; it reads its input as the flat covariance x·x′/d.
/// </summary>
[ExportKernel("fc", Description = "Fully-connected ReLU network of infinite width: NTK or NNGP.")]
public sealed class FullyConnectedKernel : IKernelProvider<FullyConnectedKernelOptions>
{
    /// <inheritdoc/>
    public IKernelFunction Create(RunContext run, FullyConnectedKernelOptions options) => Build(options);

    /// <summary>The kernel of <paramref name="options"/>' description (<see cref="FullyConnectedKernelOptions.Describe"/>), in blocks of images.</summary>
    public static Serial Build(FullyConnectedKernelOptions options) =>
        ArchitectureKernel.Create(options.Describe(), options.Output, new ImagesPerSide(options.BlockSize));
}

/// <summary>Options of the <c>fc</c> kernel (the manifest's <c>kernel.options</c>).</summary>
public sealed class FullyConnectedKernelOptions
{
    /// <summary>Hidden ReLU layers.</summary>
    [Range(0, 64), Description("Number of hidden ReLU layers.")]
    public int Depth { get; set; } = 1;

    /// <summary>W_std of every Dense.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation (NTK parameterisation).")]
    public double WStd { get; set; } = Math.Sqrt(2);

    /// <summary>b_std of every Dense.</summary>
    [Range(0.0, double.MaxValue), Description("Bias standard deviation.")]
    public double BStd { get; set; } = 0.1;

    /// <summary>NTK or NNGP.</summary>
    [Description("Which kernel: ntk (trained network) or nngp (last layer only).")]
    public KernelOutput Output { get; set; } = KernelOutput.Ntk;

    /// <summary>Images per side of a block of the kernel matrix.</summary>
    [Range(1, int.MaxValue), Description("Images per block when computing large kernels (bounds memory).")]
    public int BlockSize { get; set; } = 8192;

    /// <summary>The network these options describe: Flatten → [Dense(wStd, bStd) → Relu] × depth → Dense(wStd, bStd), widths 1 (an infinite-width kernel does not depend on them).</summary>
    // A method, not a property: the host serialises public properties into the resolved manifest.
    public Architecture Describe() => Architecture.FullyConnected(Depth, width: 1, outputs: 1, WStd, BStd);
}
