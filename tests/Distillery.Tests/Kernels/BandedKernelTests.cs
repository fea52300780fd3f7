using Distillery.Kernels;
using Distillery.Kernels.Layers;
using Distillery.Kernels.Reference;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Kernels;

/// <summary>
/// The exact ConvNet kernel over a band of pixel pairs (<see cref="Serial"/>) against the previous path over all pixel
/// pairs (<see cref="FullPixelPairKernel"/>), in float64: values and the gradients with respect to both inputs, to 1e-10.
/// </summary>
public sealed class BandedKernelTests
{
    public static TheoryData<int, ConvNetPooling, ConvNetReadout, KernelOutput, int, int, int> Architectures() => new()
    {
        // depth, pooling, readout, output, channels, height, width
        { 0, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Ntk, 1, 7, 9 },
        { 0, ConvNetPooling.None, ConvNetReadout.GlobalAvg, KernelOutput.Nngp, 3, 7, 9 },
        { 1, ConvNetPooling.Avg, ConvNetReadout.GlobalAvg, KernelOutput.Nngp, 3, 7, 9 },
        { 1, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Nngp, 3, 7, 9 },
        { 2, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk, 1, 7, 9 },
        { 2, ConvNetPooling.None, ConvNetReadout.GlobalAvg, KernelOutput.Ntk, 3, 7, 9 },
        { 3, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk, 1, 8, 10 },
        { 3, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Nngp, 3, 11, 8 },
        { 3, ConvNetPooling.Avg, ConvNetReadout.GlobalAvg, KernelOutput.Ntk, 1, 9, 8 },
        { 3, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Ntk, 1, 6, 5 },
    };

    private static Serial Kernel(int depth, ConvNetPooling pooling, ConvNetReadout readout, KernelOutput output, int pairs) =>
        ConvNetKernel.Build(new ConvNetKernelOptions
        {
            Depth = depth, Pooling = pooling, Readout = readout, Output = output, BlockSize = pairs, WStd = 1.3, BStd = 0.25,
        });

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Values_equal_the_full_pixel_pair_path(int depth, ConvNetPooling pooling, ConvNetReadout readout, KernelOutput output,
                                                      int channels, int height, int width)
    {
        using var scope = NewDisposeScope();
        var random = new Random(1000 + 10 * depth + channels);
        var x1 = RandomTensor(random, float64, 5, channels, height, width);
        var x2 = RandomTensor(random, float64, 3, channels, height, width);
        var kernel = Kernel(depth, pooling, readout, output, pairs: 4); // 2 × 2 blocks: 5 rows and 3 columns split unevenly
        var reference = new FullPixelPairKernel(kernel);

        MaxRelativeError(kernel.Compute(x1, x2), reference.Compute(x1, x2), floor: 1e-12).Should().BeLessThan(1e-10);
        MaxRelativeError(kernel.Compute(x1, x1), reference.Compute(x1, x1), floor: 1e-12).Should().BeLessThan(1e-10);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Gradients_equal_the_full_pixel_pair_path(int depth, ConvNetPooling pooling, ConvNetReadout readout, KernelOutput output,
                                                         int channels, int height, int width)
    {
        // Dyadic inputs with few bits keep x·x′ exact, so that the entries at correlation exactly 1 (K(x, x)'s diagonal)
        // are exactly at q₁q₂ − Σ² = 0 in both paths, where both take the gradient of the square root as zero.
        using var scope = NewDisposeScope();
        var random = new Random(2000 + 10 * depth + channels);
        Tensor Dyadic(params long[] shape) =>
            tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => random.Next(-16, 17) / 8.0).ToArray(), dtype: float64).reshape(shape);
        var x1 = Dyadic(5, channels, height, width);
        var x2 = Dyadic(3, channels, height, width);
        var weightsCross = RandomTensor(random, float64, 5, 3);
        var weightsSelf = RandomTensor(random, float64, 5, 5);
        var kernel = Kernel(depth, pooling, readout, output, pairs: 4);
        var reference = new FullPixelPairKernel(kernel);

        Tensor[] Gradients(Func<Tensor, Tensor, Tensor> compute)
        {
            var a = x1.detach().clone().requires_grad_(true);
            var b = x2.detach().clone().requires_grad_(true);
            var objective = (compute(a, b) * weightsCross).sum() + (compute(a, a) * weightsSelf).sum();
            return autograd.grad([objective], [a, b]).ToArray();
        }
        var (actual, expected) = (Gradients(kernel.Compute), Gradients(reference.Compute));
        isfinite(actual[0]).all().item<bool>().Should().BeTrue();
        MaxRelativeError(actual[0], expected[0], floor: 1e-9).Should().BeLessThan(1e-10, "gradient w.r.t. x1");
        MaxRelativeError(actual[1], expected[1], floor: 1e-9).Should().BeLessThan(1e-10, "gradient w.r.t. x2");
    }

    [Fact]
    public void Other_filter_and_pool_sizes_equal_the_full_pixel_pair_path()
    {
        // An even filter, a filter wider than the map, an overlapping pool (window 3, stride 1), a ReLU after the readout.
        using var scope = NewDisposeScope();
        var random = new Random(3000);
        IKernelLayer[] layers =
        [
            new Conv(2, 1.2, 0.3), new Relu(), new AvgPool(3, 1), new Conv(5, 1.5, 0.2), new Relu(), new AvgPool(2, 2),
            new Conv(3, 1.1, 0.1), new Relu(), new Flatten(), new Dense(1.1, 0.4), new Relu(), new Dense(1.4, 0.1),
        ];
        var x1 = RandomTensor(random, float64, 4, 2, 9, 7);
        var x2 = RandomTensor(random, float64, 3, 2, 9, 7);
        foreach (var output in new[] { KernelOutput.Ntk, KernelOutput.Nngp })
        {
            var kernel = new Serial(layers, output, new PairsPerBlock(5));
            MaxRelativeError(kernel.Compute(x1, x2), new FullPixelPairKernel(kernel).Compute(x1, x2), floor: 1e-12).Should().BeLessThan(1e-10);
        }
    }
}
