using Distillery.Kernels;
using Distillery.Kernels.Layers;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Kernels;

public sealed class ConvNetKernelTests
{
    private const double WStd = 1.3, BStd = 0.25;

    private static Serial ConvNet(int depth, ConvNetPooling pooling, ConvNetReadout readout, KernelOutput output,
                                  int blockSize = 16, double wStd = WStd, double bStd = BStd) =>
        ConvNetKernel.Build(new ConvNetKernelOptions
        {
            Depth = depth, Pooling = pooling, Readout = readout, Output = output, BlockSize = blockSize, WStd = wStd, BStd = bStd,
        });

    private static double[,,] Image(Tensor images, int index)
    {
        var image = images[index];
        var (c, h, w) = ((int)image.shape[0], (int)image.shape[1], (int)image.shape[2]);
        var values = Values(image);
        var result = new double[c, h, w];
        for (var i = 0; i < values.Length; i++) result[i / (h * w), i / w % h, i % w] = values[i];
        return result;
    }

    /// <summary>Every entry of the kernel against the plain-loop reference.</summary>
    private static void ShouldMatchReference(Serial kernel, Tensor x1, Tensor x2)
    {
        var actual = Matrix(kernel.Compute(x1, x2));
        for (var i = 0; i < x1.shape[0]; i++)
            for (var j = 0; j < x2.shape[0]; j++)
            {
                var (ntk, nngp) = PixelPairReference.Kernel(Image(x1, i), Image(x2, j), kernel.Layers);
                var expected = kernel.Output == KernelOutput.Ntk ? ntk : nngp;
                actual[i, j].Should().BeApproximately(expected, 1e-10 * Math.Max(1, Math.Abs(expected)), $"entry ({i},{j})");
            }
    }

    public static TheoryData<int, int, ConvNetPooling, ConvNetReadout, KernelOutput> ReferenceCases() => new()
    {
        { 1, 1, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Ntk },
        { 1, 2, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Nngp },
        { 1, 2, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk },
        { 2, 1, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk },
        { 2, 2, ConvNetPooling.Avg, ConvNetReadout.GlobalAvg, KernelOutput.Ntk },
        { 2, 2, ConvNetPooling.None, ConvNetReadout.GlobalAvg, KernelOutput.Nngp },
        { 2, 1, ConvNetPooling.None, ConvNetReadout.Flatten, KernelOutput.Ntk },
        { 2, 2, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Nngp },
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Matches_a_pixel_pair_loop_reference_on_4x4_images(int depth, int channels, ConvNetPooling pooling,
                                                                  ConvNetReadout readout, KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var random = new Random(200 + 10 * depth + channels);
        var x1 = RandomTensor(random, float64, 3, channels, 4, 4);
        var x2 = cat([RandomTensor(random, float64, 2, channels, 4, 4), x1.narrow(0, 1, 1)], 0); // one shared image
        ShouldMatchReference(ConvNet(depth, pooling, readout, output), x1, x2);
    }

    [Theory]
    [InlineData(KernelOutput.Ntk)]
    [InlineData(KernelOutput.Nngp)]
    public void Other_filter_and_pool_sizes_match_the_reference(KernelOutput output)
    {
        // An even filter (SAME pads one more on the high side), a 5×5 filter wider than the map, and an
        // overlapping pool (window 3, stride 1) on a non-square 5×4 image.
        using var scope = NewDisposeScope();
        var random = new Random(31);
        IKernelLayer[] layers =
        [
            new Conv(2, 1.2, 0.3), new Relu(), new AvgPool(3, 1), new Conv(5, 1.5, 0.2), new Relu(),
            new GlobalAvgPool(), new Dense(1.1, 0.4), new Relu(), new Dense(1.4, 0.1),
        ];
        var kernel = new Serial(layers, output, new PairsPerBlock(4));
        ShouldMatchReference(kernel, RandomTensor(random, float64, 3, 2, 5, 4), RandomTensor(random, float64, 2, 2, 5, 4));
    }

    [Theory]
    [InlineData(0, KernelOutput.Ntk)]
    [InlineData(1, KernelOutput.Ntk)]
    [InlineData(3, KernelOutput.Ntk)]
    [InlineData(1, KernelOutput.Nngp)]
    [InlineData(3, KernelOutput.Nngp)]
    public void On_1x1_images_it_is_the_fully_connected_kernel(int depth, KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var random = new Random(40 + depth);
        var x1 = RandomTensor(random, float64, 5, 3, 1, 1);
        var x2 = RandomTensor(random, float64, 4, 3, 1, 1);
        var fc = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = depth, WStd = WStd, BStd = BStd, Output = output });
        var expected = fc.Compute(x1, x2);

        // With 1×1 filters the conv layers are exactly Dense on the channels.
        var layers = new List<IKernelLayer>();
        for (var i = 0; i < depth; i++) layers.AddRange([new Conv(1, WStd, BStd), new Relu()]);
        layers.AddRange([new Flatten(), new Dense(WStd, BStd)]);
        var conv1x1 = new Serial(layers, output, new PairsPerBlock(16));
        MaxRelativeError(conv1x1.Compute(x1, x2), expected, floor: 1e-12).Should().BeLessThan(1e-12);

        // The plugin's 3×3 SAME filters see only their centre tap on a 1×1 image (the other 8 are zero padding), so
        // each conv is a Dense with weight variance W²/9; global average pooling equals flatten on one pixel.
        var fcThirdWeights = new List<IKernelLayer>();
        for (var i = 0; i < depth; i++) fcThirdWeights.AddRange([new Dense(WStd / 3, BStd), new Relu()]);
        fcThirdWeights.Add(new Dense(WStd, BStd));
        var expected3x3 = new Serial(fcThirdWeights, output).Compute(x1, x2);
        foreach (var readout in new[] { ConvNetReadout.Flatten, ConvNetReadout.GlobalAvg })
            MaxRelativeError(ConvNet(depth, ConvNetPooling.None, readout, output).Compute(x1, x2), expected3x3, floor: 1e-12)
                .Should().BeLessThan(1e-12);
    }

    [Theory]
    [InlineData(ConvNetPooling.Avg)]
    [InlineData(ConvNetPooling.None)]
    public void Gradients_with_respect_to_both_inputs_match_central_differences(ConvNetPooling pooling)
    {
        // Dyadic inputs with few bits keep x·x′ exact, so entries at correlation exactly 1 (the diagonal of K(x, x),
        // and every p = p′ of a self-covariance) stay exactly at q₁q₂ − Σ² = 0 at each perturbed point too; otherwise
        // rounding makes that ±ε·q² and its √ (≈ √ε relative) swamps the differences.
        using var scope = NewDisposeScope();
        var random = new Random(50);
        var kernel = ConvNet(2, pooling, ConvNetReadout.Flatten, KernelOutput.Ntk, blockSize: 3);
        long[] shape1 = [3, 2, 4, 4], shape2 = [2, 2, 4, 4];
        var flat1 = Enumerable.Range(0, 96).Select(_ => random.Next(-16, 17) / 8.0).ToArray();
        var flat2 = Enumerable.Range(0, 64).Select(_ => random.Next(-16, 17) / 8.0).ToArray();
        var weightsCross = RandomTensor(random, float64, 3, 2);
        var weightsSelf = RandomTensor(random, float64, 3, 3);

        Tensor Objective(Tensor a, Tensor b) =>
            (kernel.Compute(a, b) * weightsCross).sum() + (kernel.Compute(a, a) * weightsSelf).sum();

        double Value(double[] v1, double[] v2)
        {
            using var inner = NewDisposeScope();
            return Objective(tensor(v1, dtype: float64).reshape(shape1), tensor(v2, dtype: float64).reshape(shape2)).item<double>();
        }

        var leaf1 = tensor(flat1, dtype: float64).reshape(shape1).requires_grad_(true);
        var leaf2 = tensor(flat2, dtype: float64).reshape(shape2).requires_grad_(true);
        var grads = autograd.grad([Objective(leaf1, leaf2)], [leaf1, leaf2]);
        var (grad1, grad2) = (Values(grads[0]), Values(grads[1]));

        const double h = 1.0 / (1 << 17);
        for (var index = 0; index < flat1.Length; index += 3)
        {
            var (plus, minus) = ((double[])flat1.Clone(), (double[])flat1.Clone());
            plus[index] += h;
            minus[index] -= h;
            var numeric = (Value(plus, flat2) - Value(minus, flat2)) / (2 * h);
            grad1[index].Should().BeApproximately(numeric, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"x1 coordinate {index}");
        }
        for (var index = 0; index < flat2.Length; index += 3)
        {
            var (plus, minus) = ((double[])flat2.Clone(), (double[])flat2.Clone());
            plus[index] += h;
            minus[index] -= h;
            var numeric = (Value(flat1, plus) - Value(flat1, minus)) / (2 * h);
            grad2[index].Should().BeApproximately(numeric, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"x2 coordinate {index}");
        }
    }

    [Fact]
    public void Gradients_are_finite_for_a_batch_with_itself_in_float32_and_float64()
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            var x = RandomTensor(new Random(51), dtype, 4, 1, 6, 6).requires_grad_(true);
            var kernel = ConvNet(2, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk);
            var gradient = autograd.grad([kernel.Compute(x, x).sum()], [x])[0];
            gradient.dtype.Should().Be(dtype);
            isfinite(gradient).all().item<bool>().Should().BeTrue();
        }
    }

    [Theory]
    [InlineData(KernelOutput.Ntk)]
    [InlineData(KernelOutput.Nngp)]
    public void Blocked_computation_equals_unblocked(KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var random = new Random(60);
        var x = RandomTensor(random, float64, 7, 2, 4, 4);
        var y = RandomTensor(random, float64, 5, 2, 4, 4);
        var whole = ConvNet(2, ConvNetPooling.Avg, ConvNetReadout.Flatten, output, blockSize: 1000).Compute(x, y);
        whole.shape.Should().Equal(7, 5);
        foreach (var pairs in new[] { 1, 3, 6, 10, 34 })
        {
            var blocked = ConvNet(2, ConvNetPooling.Avg, ConvNetReadout.Flatten, output, blockSize: pairs).Compute(x, y);
            MaxRelativeError(blocked, whole, floor: 1e-12).Should().BeLessThan(1e-12, $"{pairs} pairs per block");
        }

        // Gradients through blocks too.
        var weights = RandomTensor(random, float64, 7, 5);
        Tensor[] Gradients(int pairs)
        {
            var a = x.detach().clone().requires_grad_(true);
            var b = y.detach().clone().requires_grad_(true);
            var value = (ConvNet(2, ConvNetPooling.Avg, ConvNetReadout.Flatten, output, blockSize: pairs).Compute(a, b) * weights).sum();
            return autograd.grad([value], [a, b]).ToArray();
        }
        var (unblocked, blockedGradients) = (Gradients(1000), Gradients(4));
        MaxRelativeError(blockedGradients[0], unblocked[0], floor: 1e-9).Should().BeLessThan(1e-10);
        MaxRelativeError(blockedGradients[1], unblocked[1], floor: 1e-9).Should().BeLessThan(1e-10);
    }

    [Theory]
    [InlineData(KernelOutput.Ntk, ConvNetReadout.Flatten)]
    [InlineData(KernelOutput.Nngp, ConvNetReadout.Flatten)]
    [InlineData(KernelOutput.Ntk, ConvNetReadout.GlobalAvg)]
    public void Kernel_matrix_is_symmetric_and_positive_semidefinite(KernelOutput output, ConvNetReadout readout)
    {
        using var scope = NewDisposeScope();
        var x = RandomTensor(new Random(70), float64, 12, 2, 4, 4);
        var kernel = ConvNet(2, ConvNetPooling.Avg, readout, output, blockSize: 10);
        var k = kernel.Compute(x, x);

        MaxRelativeError(k, k.t(), floor: 1e-12).Should().BeLessThan(1e-12);
        var eigenvalues = linalg.eigvalsh(k);
        var largest = eigenvalues.max().item<double>();
        largest.Should().BeGreaterThan(0);
        eigenvalues.min().item<double>().Should().BeGreaterThanOrEqualTo(-1e-10 * largest);

        var y = RandomTensor(new Random(71), float64, 5, 2, 4, 4);
        MaxRelativeError(kernel.Compute(x, y), kernel.Compute(y, x).t(), floor: 1e-12).Should().BeLessThan(1e-12);
    }

    [Fact]
    public void Float32_is_close_to_float64()
    {
        using var scope = NewDisposeScope();
        var random = new Random(80);
        var x = RandomTensor(random, float64, 4, 1, 8, 8);
        var y = RandomTensor(random, float64, 3, 1, 8, 8);
        var kernel = ConvNet(3, ConvNetPooling.Avg, ConvNetReadout.Flatten, KernelOutput.Ntk);
        var k32 = kernel.Compute(x.to(float32), y.to(float32));
        k32.dtype.Should().Be(ScalarType.Float32);
        MaxRelativeError(k32, kernel.Compute(x, y), floor: 1e-3).Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Default_options_build_the_reference_convnet()
    {
        var kernel = ConvNetKernel.Build(new ConvNetKernelOptions());
        kernel.Layers.Should().Equal(
            new Conv(3, Math.Sqrt(2), 0.1), new Relu(), new AvgPool(2, 2),
            new Conv(3, Math.Sqrt(2), 0.1), new Relu(), new AvgPool(2, 2),
            new Conv(3, Math.Sqrt(2), 0.1), new Relu(), new AvgPool(2, 2),
            new Flatten(), new Dense(Math.Sqrt(2), 0.1));
        kernel.Output.Should().Be(KernelOutput.Ntk);
        // Three 2×2 pools before Flatten: the pairs within ±7 pixels of 28×28 inputs (28 → 14 → 7 → 3).
        kernel.InputRepresentation([1, 1, 28, 28]).Should().Be(new KernelRepresentation.PixelPairs(new PixelReach(7, 7)));
    }

    [Theory]
    [InlineData(16, 100, 100, 4, 4)]
    [InlineData(16, 100, 2, 8, 2)]   // a short side leaves room for more rows
    [InlineData(16, 1, 100, 1, 16)]
    [InlineData(10, 7, 5, 3, 3)]
    [InlineData(1, 7, 5, 1, 1)]
    public void Pairs_per_block_gives_near_square_blocks_within_the_budget(int pairs, long n1, long n2, long rows, long columns)
    {
        new PairsPerBlock(pairs).BlockShape(n1, n2).Should().Be((rows, columns));
    }

    [Fact]
    public void Dense_on_an_image_state_and_an_unreduced_composition_are_rejected()
    {
        using var scope = NewDisposeScope();
        var x = RandomTensor(new Random(90), float64, 2, 1, 4, 4);
        var denseOnMap = new Serial([new Conv(3, 1, 0), new Dense(1, 0)], KernelOutput.Ntk, new PairsPerBlock(4));
        FluentActions.Invoking(() => denseOnMap.Compute(x, x)).Should().Throw<InvalidOperationException>().WithMessage("*Flatten*");
        var noReadout = new Serial([new Conv(3, 1, 0), new Relu()], KernelOutput.Ntk, new PairsPerBlock(4));
        FluentActions.Invoking(() => noReadout.Compute(x, x)).Should().Throw<InvalidOperationException>().WithMessage("*Flatten*");
    }
}
