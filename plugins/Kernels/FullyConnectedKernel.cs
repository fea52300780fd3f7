using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.Layers;

namespace Distillery.Kernels;

/// <summary>
/// The infinite-width fully-connected ReLU network: [Dense(W, b) → ReLU] × depth → Dense(W, b).
/// </summary>
[ExportKernel("fc", Description = "Fully-connected ReLU network of infinite width: NTK or NNGP.")]
public sealed class FullyConnectedKernel : IKernelProvider<FullyConnectedKernelOptions>
{
    public IKernelFunction Create(RunContext run, FullyConnectedKernelOptions options) => Build(options);

    public static Serial Build(FullyConnectedKernelOptions options)
    {
        var layers = new List<IKernelLayer>();
        for (var i = 0; i < options.Depth; i++)
        {
            layers.Add(new Dense(options.WStd, options.BStd));
            layers.Add(new Relu());
        }
        layers.Add(new Dense(options.WStd, options.BStd));
        return new Serial(layers, options.Output, options.BlockSize);
    }
}

public sealed class FullyConnectedKernelOptions
{
    [Range(0, 64), Description("Number of hidden ReLU layers.")]
    public int Depth { get; set; } = 1;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation (NTK parameterisation).")]
    public double WStd { get; set; } = Math.Sqrt(2);

    [Range(0.0, double.MaxValue), Description("Bias standard deviation.")]
    public double BStd { get; set; } = 0.1;

    [Description("Which kernel: ntk (trained network) or nngp (last layer only).")]
    public KernelOutput Output { get; set; } = KernelOutput.Ntk;

    [Range(1, int.MaxValue), Description("Images per block when computing large kernels (bounds memory).")]
    public int BlockSize { get; set; } = 8192;
}
