using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.RandomFeatures;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

internal static class RandomFeatureTestSupport
{
    public static RunContext Run(long seed = 11) => new()
    {
        Device = CPU, DType = float64, Seed = seed, Logger = NullLogger.Instance,
    };

    public static IKernelFunction Create(ConvNetRandomFeaturesOptions options, long seed = 11) =>
        new ConvNetRandomFeaturesKernel().Create(Run(seed), options);

    public static ConvNetRandomFeaturesOptions Small(RedrawMode redraw = RedrawMode.PerStep) => new()
    {
        Models = 2, Width = 8, Depth = 2, Redraw = redraw, BlockSize = 3,
    };

    /// <summary>Standard-normal images [count, channels, size, size] in float64 from a fixed seed.</summary>
    public static Tensor RandomImages(int seed, long count, long channels, long size)
    {
        using var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        return randn([count, channels, size, size], dtype: float64, generator: generator);
    }

    /// <summary>torch.equal: same dtype, same shape, every element equal.</summary>
    public static bool BitIdentical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
