using Distillery.Abstractions.Augmentation;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Augmentation;

/// <summary>
/// Every family of DSA's augmentation against an independent computation, pixel by pixel, from the drawn uniforms
/// (<see cref="AugmentationTransform.Draws"/>) and the formulas of DSA's <c>DiffAugment</c> (Zhao &amp; Bilen, ICML 2021).
/// </summary>
public sealed class AugmentationClosedFormTests
{
    private const int N = 12, C = 2;

    /// <summary>A float64 batch [N, C, height, width] of distinct non-zero values (so a zeroed pixel shows).</summary>
    private static Tensor Batch(int height, int width, int seed) =>
        rand([N, C, height, width], ScalarType.Float64, generator: new Generator((ulong)seed)).add(Abstractions.Numerics.HeldScalars.One);

    private static (AugmentationTransform Transform, double[] Input, double[] Output) Run(AugmentationKind kind, Tensor images,
                                                                                           AugmentationSettings? settings = null, int seed = 31)
    {
        var transform = new DifferentiableAugmentation([kind], settings).Sample(new Generator((ulong)seed), N);
        return (transform, Values(images), Values(transform.Apply(images)));
    }

    private static int At(int i, int c, int y, int x, int height, int width) => ((i * C + c) * height + y) * width + x;

    [Fact]
    public void Flip_mirrors_along_the_width_exactly_the_images_whose_draw_is_below_the_probability()
    {
        using var scope = NewDisposeScope();
        var (transform, input, output) = Run(AugmentationKind.Flip, Batch(3, 5, seed: 1));
        using var owned = transform;

        var mirrored = transform.Draws.Select(u => u[0] < 0.5).ToArray();
        mirrored.Should().Contain(true).And.Contain(false);
        for (var i = 0; i < N; i++)
            for (var c = 0; c < C; c++)
                for (var y = 0; y < 3; y++)
                    for (var x = 0; x < 5; x++)
                        output[At(i, c, y, x, 3, 5)].Should().Be(input[At(i, c, y, mirrored[i] ? 4 - x : x, 3, 5)]);
    }

    [Fact]
    public void Crop_shifts_each_image_by_whole_pixels_with_zero_fill()
    {
        using var scope = NewDisposeScope();
        // s = round(0.25 · 8) = 2 rows and round(0.25 · 6) = round(1.5) = 2 columns (half up, as DSA's int(x + 0.5)).
        var (transform, input, output) = Run(AugmentationKind.Crop, Batch(8, 6, seed: 2), new AugmentationSettings { CropRatio = 0.25 });
        using var owned = transform;

        var shifts = transform.Draws.Select(u => ((int)Math.Floor(u[0] * 5) - 2, (int)Math.Floor(u[1] * 5) - 2)).ToArray();
        shifts.Distinct().Should().HaveCountGreaterThan(5);
        shifts.Should().Contain(s => Math.Abs(s.Item1) == 2 || Math.Abs(s.Item2) == 2, "the largest shift is reached");
        for (var i = 0; i < N; i++)
            for (var c = 0; c < C; c++)
                for (var y = 0; y < 8; y++)
                    for (var x = 0; x < 6; x++)
                    {
                        var (sy, sx) = (y + shifts[i].Item1, x + shifts[i].Item2);
                        var expected = sy is >= 0 and < 8 && sx is >= 0 and < 6 ? input[At(i, c, sy, sx, 8, 6)] : 0;
                        output[At(i, c, y, x, 8, 6)].Should().Be(expected, $"image {i} shifted by {shifts[i]}, pixel ({y}, {x})");
                    }
    }

    [Fact]
    public void Cutout_zeroes_exactly_each_images_square_clipped_to_the_image()
    {
        using var scope = NewDisposeScope();
        // Side round(0.5 · 7) = 4 rows (even: centres 0 … 7) and round(0.5 · 5) = 3 columns (odd: centres 0 … 4).
        var (transform, input, output) = Run(AugmentationKind.Cutout, Batch(7, 5, seed: 3), seed: 32);
        using var owned = transform;

        var corners = transform.Draws.Select(u => ((int)Math.Floor(u[0] * 8) - 2, (int)Math.Floor(u[1] * 5) - 1)).ToArray();
        var zeroed = new int[N];
        for (var i = 0; i < N; i++)
            for (var c = 0; c < C; c++)
                for (var y = 0; y < 7; y++)
                    for (var x = 0; x < 5; x++)
                    {
                        var inside = y >= corners[i].Item1 && y < corners[i].Item1 + 4 && x >= corners[i].Item2 && x < corners[i].Item2 + 3;
                        output[At(i, c, y, x, 7, 5)].Should().Be(inside ? 0 : input[At(i, c, y, x, 7, 5)]);
                        if (inside && c == 0) zeroed[i]++;
                    }
        zeroed.Should().Contain(12, "some square lies inside the image").And.Contain(z => z < 12, "some square overlaps the border");
    }

    [Fact]
    public void Colour_is_brightness_then_saturation_then_contrast_with_the_drawn_factors()
    {
        using var scope = NewDisposeScope();
        var (transform, input, output) = Run(AugmentationKind.Color, Batch(3, 4, seed: 4));
        using var owned = transform;

        const int pixels = 12;
        for (var i = 0; i < N; i++)
        {
            var u = transform.Draws[i];
            var x = new double[C, pixels];
            for (var c = 0; c < C; c++)
                for (var p = 0; p < pixels; p++) x[c, p] = input[(i * C + c) * pixels + p] + (u[0] - 0.5) * 1.0;
            for (var p = 0; p < pixels; p++)
            {
                var mean = (x[0, p] + x[1, p]) / 2;
                for (var c = 0; c < C; c++) x[c, p] = mean + (x[c, p] - mean) * (u[1] * 2.0);
            }
            var imageMean = x.Cast<double>().Average();
            for (var c = 0; c < C; c++)
                for (var p = 0; p < pixels; p++)
                    output[(i * C + c) * pixels + p].Should().BeApproximately(imageMean + (x[c, p] - imageMean) * (u[2] + 0.5), 1e-12);
        }
    }

    [Fact]
    public void Rotate_samples_bilinearly_on_the_rotated_grid_with_zero_padding()
    {
        using var scope = NewDisposeScope();
        var (transform, input, output) = Run(AugmentationKind.Rotate, Batch(6, 7, seed: 5));
        using var owned = transform;

        var expected = Resampled(input, 6, 7, i =>
        {
            var angle = (2 * transform.Draws[i][0] - 1) * 15 * Math.PI / 180;
            return (Math.Cos(angle), -Math.Sin(angle), Math.Sin(angle), Math.Cos(angle));
        });
        output.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-12);
        output.Should().NotEqual(input);
    }

    [Fact]
    public void Scale_samples_bilinearly_on_the_scaled_grid_and_a_ratio_of_one_is_the_identity()
    {
        using var scope = NewDisposeScope();
        var images = Batch(6, 7, seed: 6);
        var (transform, input, output) = Run(AugmentationKind.Scale, images);
        using var owned = transform;

        static double Factor(double u) => u * (1.2 - 1 / 1.2) + 1 / 1.2;
        var expected = Resampled(input, 6, 7, i => (Factor(transform.Draws[i][0]), 0, 0, Factor(transform.Draws[i][1])));
        output.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-12);

        var (identity, _, unchanged) = Run(AugmentationKind.Scale, images, new AugmentationSettings { ScaleRatio = 1 });
        identity.Dispose();
        unchanged.Should().Equal(input, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    /// <summary>
    /// grid_sample by hand (bilinear, zero padding, align_corners false): output pixel (y, x) has normalised coordinates
    /// ((2x + 1)/W − 1, (2y + 1)/H − 1); the matrix [[a, b], [c, d]] maps them into the input, where pixel centres are again
    /// at (2k + 1)/side − 1, and the four neighbours are mixed by their distances.
    /// </summary>
    private static double[] Resampled(double[] input, int height, int width, Func<int, (double A, double B, double C, double D)> matrix)
    {
        var output = new double[input.Length];
        for (var i = 0; i < N; i++)
        {
            var (a, b, c, d) = matrix(i);
            for (var channel = 0; channel < C; channel++)
                for (var y = 0; y < height; y++)
                    for (var x = 0; x < width; x++)
                    {
                        var (nx, ny) = ((2.0 * x + 1) / width - 1, (2.0 * y + 1) / height - 1);
                        var (px, py) = (((a * nx + b * ny + 1) * width - 1) / 2, ((c * nx + d * ny + 1) * height - 1) / 2);
                        var (x0, y0) = ((int)Math.Floor(px), (int)Math.Floor(py));
                        var (fx, fy) = (px - x0, py - y0);
                        double Pixel(int row, int column) =>
                            row >= 0 && row < height && column >= 0 && column < width ? input[At(i, channel, row, column, height, width)] : 0;
                        output[At(i, channel, y, x, height, width)] =
                            Pixel(y0, x0) * (1 - fx) * (1 - fy) + Pixel(y0, x0 + 1) * fx * (1 - fy) +
                            Pixel(y0 + 1, x0) * (1 - fx) * fy + Pixel(y0 + 1, x0 + 1) * fx * fy;
                    }
        }
        return output;
    }
}
