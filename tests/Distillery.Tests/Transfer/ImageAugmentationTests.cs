using Distillery.Evaluation.Transfer;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

public sealed class ImageAugmentationTests
{
    /// <summary>Image <paramref name="i"/> of a [n, C, H, W] batch moved by (dy, dx), zeros where nothing moved in, mirrored first if asked.</summary>
    private static float[,,] Moved(float[] pixels, int i, int channels, int height, int width, int dy, int dx, bool mirror)
    {
        var moved = new float[channels, height, width];
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    var (sy, sx) = (y + dy, x + dx);
                    if (sy < 0 || sy >= height || sx < 0 || sx >= width) continue;
                    if (mirror) sx = width - 1 - sx;
                    moved[c, y, x] = pixels[((i * channels + c) * height + sy) * width + sx];
                }
        return moved;
    }

    private static bool Matches(float[] output, int i, float[,,] expected)
    {
        var (channels, height, width) = (expected.GetLength(0), expected.GetLength(1), expected.GetLength(2));
        for (var c = 0; c < channels; c++)
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                    if (output[((i * channels + c) * height + y) * width + x] != expected[c, y, x]) return false;
        return true;
    }

    [Fact]
    public void Every_image_is_its_original_shifted_by_at_most_the_limit_and_perhaps_mirrored()
    {
        const int n = 64, channels = 2, height = 5, width = 6, maxShift = 2;
        var input = randn(n, channels, height, width, generator: manual_seed(1));
        using var generator = new TorchSharp.torch.Generator(9);
        var output = new ImageAugmentation(maxShift, flip: true, generator).Apply(input);

        output.shape.Should().Equal(n, channels, height, width);
        var (pixels, augmented) = (input.data<float>().ToArray(), output.data<float>().ToArray());
        var seen = new HashSet<(int, int, bool)>();
        for (var i = 0; i < n; i++)
        {
            var match = (from dy in Enumerable.Range(-maxShift, 2 * maxShift + 1)
                         from dx in Enumerable.Range(-maxShift, 2 * maxShift + 1)
                         from mirror in new[] { false, true }
                         where Matches(augmented, i, Moved(pixels, i, channels, height, width, dy, dx, mirror))
                         select (dy, dx, mirror)).ToList();
            match.Should().NotBeEmpty($"image {i} should be a shifted (and perhaps mirrored) copy of its original");
            seen.Add(match[0]);
        }
        seen.Should().HaveCountGreaterThan(20, "64 images draw their shifts and flips independently");
        seen.Select(s => s.Item3).Distinct().Should().HaveCount(2, "some images are mirrored and some are not");
    }

    [Fact]
    public void The_same_generator_seed_gives_the_same_augmentation_and_no_options_change_nothing()
    {
        var input = randn(8, 1, 7, 7, generator: manual_seed(2));
        Tensor Augment(long seed) => new ImageAugmentation(3, flip: true, new TorchSharp.torch.Generator((ulong)seed)).Apply(input);

        static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();
        Same(Augment(5), Augment(5)).Should().BeTrue();
        Same(Augment(5), Augment(6)).Should().BeFalse();
        Same(new ImageAugmentation(0, flip: false, new TorchSharp.torch.Generator(5)).Apply(input), input).Should().BeTrue();
    }
}
