using FluentAssertions;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.RandomFeatures.RandomFeatureTestSupport;
using static TorchSharp.torch;
using Distillery.Kernels.RandomFeatures;

namespace Distillery.Tests.RandomFeatures;

/// <summary>The random-feature kernel against an independent exact NNGP of the same small ConvNet.</summary>
public sealed class ConvergenceTests(ITestOutputHelper output)
{
    private static readonly long[] Draws = [1, 2, 3];

    /// <summary>
    /// One draw's error is noisy (the whole kernel's scale fluctuates with the first layer's weights), so each
    /// configuration's error is the mean over three independent draws (run seeds). One conv block: deeper
    /// random features converge too slowly and too noisily for a strict ordering at test-sized M·width.
    /// </summary>
    [Theory]
    [InlineData(2, 8)] // two channels (Σ = x·x′/C), 8 → 4 after the pooling
    [InlineData(1, 6)] // 6 → 3
    public void Error_against_the_exact_NNGP_shrinks_as_models_times_width_grows(int channels, int size)
    {
        const int depth = 1;
        using var scope = NewDisposeScope();
        var images = RandomImages(5, 5, channels, size);
        var exact = ExactConvNetNngp.Compute(ToArrays(images), depth, Math.Sqrt(2), 0.1);

        (int Models, int Width)[] configurations = [(1, 32), (2, 128), (8, 256)]; // M·width = 32, 256, 2048
        var errors = configurations.Select(c =>
        {
            var perDraw = Draws.Select(seed =>
            {
                using var drawScope = NewDisposeScope();
                var kernel = Create(new ConvNetRandomFeaturesOptions { Models = c.Models, Width = c.Width, Depth = depth }, seed);
                return RelativeFrobeniusError(kernel.Compute(images, images), exact);
            }).ToArray();
            output.WriteLine($"depth {depth}, {channels}×{size}×{size}: M={c.Models}, width={c.Width} (M·width={c.Models * c.Width}): " +
                             $"relative Frobenius error {perDraw.Average():P2} (draws: {string.Join(", ", perDraw.Select(e => e.ToString("P2")))})");
            return perDraw.Average();
        }).ToArray();

        errors.Should().BeInDescendingOrder().And.OnlyHaveUniqueItems();
        errors[^1].Should().BeLessThan(0.03);
    }

    [Fact]
    public void Without_conv_blocks_the_features_are_the_pixels_and_the_kernel_is_exact()
    {
        // Depth 0 is Flatten → Dense: W²·x·x′/(C·H·W) + b², nothing random left to approximate.
        using var scope = NewDisposeScope();
        var images = RandomImages(6, 4, 2, 6);
        var exact = ExactConvNetNngp.Compute(ToArrays(images), 0, Math.Sqrt(2), 0.1);
        var kernel = Create(new ConvNetRandomFeaturesOptions { Models = 3, Width = 4, Depth = 0 });
        var error = RelativeFrobeniusError(kernel.Compute(images, images), exact);
        output.WriteLine($"depth 0, 2×6×6: relative Frobenius error {error:E2}");
        error.Should().BeLessThan(1e-14);
    }

    [Fact]
    public void Blocking_and_argument_order_do_not_change_the_kernel()
    {
        using var scope = NewDisposeScope();
        var x = RandomImages(7, 7, 1, 8);
        var y = RandomImages(8, 4, 1, 8);
        var blocked = Create(Small()).Compute(x, y);
        var whole = Create(new ConvNetRandomFeaturesOptions { Models = 2, Width = 8, Depth = 2, BlockSize = 100 }).Compute(x, y);
        var swapped = Create(Small()).Compute(y, x);
        var self = Create(Small()).Compute(x, x);

        blocked.shape.Should().Equal(7, 4);
        allclose(blocked, whole, rtol: 1e-12, atol: 1e-14).Should().BeTrue();
        allclose(blocked, swapped.t(), rtol: 1e-12, atol: 1e-14).Should().BeTrue();
        allclose(self, self.t(), rtol: 1e-12, atol: 1e-14).Should().BeTrue();
    }

    private static double[][,,] ToArrays(Tensor images)
    {
        var (n, c, h, w) = ((int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
        var flat = images.contiguous().data<double>().ToArray();
        return Enumerable.Range(0, n).Select(i =>
        {
            var image = new double[c, h, w];
            for (var k = 0; k < c * h * w; k++) image[k / (h * w), k / w % h, k % w] = flat[i * c * h * w + k];
            return image;
        }).ToArray();
    }

    private static double RelativeFrobeniusError(Tensor approximate, double[,] exact)
    {
        var n = exact.GetLength(0);
        var values = approximate.contiguous().data<double>().ToArray();
        double difference = 0, norm = 0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                difference += Math.Pow(values[i * n + j] - exact[i, j], 2);
                norm += exact[i, j] * exact[i, j];
            }
        return Math.Sqrt(difference / norm);
    }
}
