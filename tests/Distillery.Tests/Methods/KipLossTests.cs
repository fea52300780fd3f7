using Distillery.Kernels;
using Distillery.Kernels.Layers;
using Distillery.Kip;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class KipLossTests
{
    private static readonly long[] SupportShape = [6, 2, 3, 3];
    private const int Classes = 3;

    /// <summary>
    /// Support images are dyadic rationals with few bits (k/8), and the finite-difference step is 2⁻¹⁷, so every
    /// x·x and |x|² is exact and K_ss's diagonal (correlation 1) has q₁q₂ − Σ² exactly 0 at each perturbed point;
    /// with arbitrary doubles it rounds to ±ε·q², whose square root (≈ √ε relative) would swamp the differences.
    /// </summary>
    private static double[] DyadicSupport(Random random) =>
        Enumerable.Range(0, (int)SupportShape.Aggregate(1L, (a, b) => a * b)).Select(_ => random.Next(-16, 17) / 8.0).ToArray();

    private sealed record Problem(Serial Kernel, double[] Images, double[] Labels, Tensor TargetImages, Tensor TargetTargets, double Reg);

    private static Problem Make(int seed, double reg)
    {
        var random = new Random(seed);
        var kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 2, Output = KernelOutput.Ntk });
        var images = DyadicSupport(random);
        var labels = Gaussian(random, 6 * Classes).Select(v => v * 0.5).ToArray();
        var targetImages = RandomTensor(random, float64, 20, 2, 3, 3);
        var targetLabels = Enumerable.Range(0, 20).Select(i => (long)(i % Classes)).ToArray();
        return new Problem(kernel, images, labels, targetImages, EncodeTargets(targetLabels, Classes), reg);
    }

    private static double Loss(Problem p, double[] images, double[] labels)
    {
        using var scope = NewDisposeScope();
        return KipLoss.Compute(p.Kernel, tensor(images, dtype: float64).reshape(SupportShape),
            tensor(labels, dtype: float64).reshape(6, Classes), p.TargetImages, p.TargetTargets, p.Reg).item<double>();
    }

    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e-2)]
    public void Gradients_match_central_finite_differences(double reg)
    {
        using var scope = NewDisposeScope();
        var p = Make(21, reg);
        var images = tensor(p.Images, dtype: float64).reshape(SupportShape).requires_grad_(true);
        var labels = tensor(p.Labels, dtype: float64).reshape(6, Classes).requires_grad_(true);
        var loss = KipLoss.Compute(p.Kernel, images, labels, p.TargetImages, p.TargetTargets, reg);
        loss.shape.Should().BeEmpty();
        var grads = autograd.grad([loss], [images, labels]);
        var imageGradient = Values(grads[0]);
        var labelGradient = Values(grads[1]);

        const double h = 1.0 / (1 << 17);
        var largestImageGradient = imageGradient.Max(Math.Abs);
        // Several image coordinates spread over all support images, and every label coordinate.
        foreach (var index in new[] { 0, 5, 17, 19, 40, 57, 71, 88, 100, 107 })
        {
            var plus = (double[])p.Images.Clone();
            var minus = (double[])p.Images.Clone();
            plus[index] += h;
            minus[index] -= h;
            var numeric = (Loss(p, plus, p.Labels) - Loss(p, minus, p.Labels)) / (2 * h);
            RelativeError(imageGradient[index], numeric, 1e-3 * largestImageGradient)
                .Should().BeLessThan(1e-6, $"d loss / d image coordinate {index}: autograd {imageGradient[index]}, numeric {numeric}");
        }

        var largestLabelGradient = labelGradient.Max(Math.Abs);
        for (var index = 0; index < p.Labels.Length; index++)
        {
            var plus = (double[])p.Labels.Clone();
            var minus = (double[])p.Labels.Clone();
            plus[index] += h;
            minus[index] -= h;
            var numeric = (Loss(p, p.Images, plus) - Loss(p, p.Images, minus)) / (2 * h);
            RelativeError(labelGradient[index], numeric, 1e-3 * largestLabelGradient)
                .Should().BeLessThan(1e-6, $"d loss / d label coordinate {index}: autograd {labelGradient[index]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Loss_is_half_the_mean_squared_error_of_an_independently_computed_krr_prediction()
    {
        using var scope = NewDisposeScope();
        var p = Make(22, 1e-3);
        var images = tensor(p.Images, dtype: float64).reshape(SupportShape);
        var labels = tensor(p.Labels, dtype: float64).reshape(6, Classes);

        // Independent: explicit λ = reg · tr(K_ss)/n, a general LU solve and the mean over n_t × C entries.
        var kss = p.Kernel.Compute(images, images);
        var kts = p.Kernel.Compute(p.TargetImages, images);
        var lambda = p.Reg * Enumerable.Range(0, 6).Sum(i => kss[i, i].item<double>()) / 6;
        var alpha = linalg.solve(kss + lambda * eye(6, dtype: float64), labels);
        var residual = Values(kts.matmul(alpha) - p.TargetTargets);
        var expected = 0.5 * residual.Sum(r => r * r) / residual.Length;

        Loss(p, p.Images, p.Labels).Should().BeApproximately(expected, 1e-10 * expected);
    }

    private const double PlattLogTemperature = 0.7; // τ ≈ 2, away from the initial 1 so that τ's factor is exercised

    private static double PlattLoss(Problem p, double[] images, double[] labels, double logTemperature)
    {
        using var scope = NewDisposeScope();
        return KipLoss.Compute(p.Kernel, tensor(images, dtype: float64).reshape(SupportShape),
            tensor(labels, dtype: float64).reshape(6, Classes), p.TargetImages, p.TargetTargets, p.Reg,
            logTemperature: tensor(logTemperature, dtype: float64)).item<double>();
    }

    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e-2)]
    public void Platt_gradients_match_central_finite_differences(double reg)
    {
        using var scope = NewDisposeScope();
        var p = Make(23, reg);
        var images = tensor(p.Images, dtype: float64).reshape(SupportShape).requires_grad_(true);
        var labels = tensor(p.Labels, dtype: float64).reshape(6, Classes).requires_grad_(true);
        var logTemperature = tensor(PlattLogTemperature, dtype: float64).requires_grad_(true);
        var loss = KipLoss.Compute(p.Kernel, images, labels, p.TargetImages, p.TargetTargets, reg, logTemperature: logTemperature);
        loss.shape.Should().BeEmpty();
        var grads = autograd.grad([loss], [images, labels, logTemperature]);
        var imageGradient = Values(grads[0]);
        var labelGradient = Values(grads[1]);
        var temperatureGradient = grads[2].item<double>();

        const double h = 1.0 / (1 << 17);
        double Numeric(Func<double, double> lossAt) => (lossAt(h) - lossAt(-h)) / (2 * h);

        var largestImageGradient = imageGradient.Max(Math.Abs);
        foreach (var index in new[] { 0, 5, 17, 19, 40, 57, 71, 88, 100, 107 })
        {
            var numeric = Numeric(d =>
            {
                var moved = (double[])p.Images.Clone();
                moved[index] += d;
                return PlattLoss(p, moved, p.Labels, PlattLogTemperature);
            });
            RelativeError(imageGradient[index], numeric, 1e-3 * largestImageGradient)
                .Should().BeLessThan(1e-6, $"d loss / d image coordinate {index}: autograd {imageGradient[index]}, numeric {numeric}");
        }

        var largestLabelGradient = labelGradient.Max(Math.Abs);
        for (var index = 0; index < p.Labels.Length; index++)
        {
            var numeric = Numeric(d =>
            {
                var moved = (double[])p.Labels.Clone();
                moved[index] += d;
                return PlattLoss(p, p.Images, moved, PlattLogTemperature);
            });
            RelativeError(labelGradient[index], numeric, 1e-3 * largestLabelGradient)
                .Should().BeLessThan(1e-6, $"d loss / d label coordinate {index}: autograd {labelGradient[index]}, numeric {numeric}");
        }

        var temperatureNumeric = Numeric(d => PlattLoss(p, p.Images, p.Labels, PlattLogTemperature + d));
        temperatureGradient.Should().NotBe(0);
        RelativeError(temperatureGradient, temperatureNumeric, 1e-12)
            .Should().BeLessThan(1e-7, $"d loss / d log τ: autograd {temperatureGradient}, numeric {temperatureNumeric}");
    }

    [Fact]
    public void Platt_loss_is_the_cross_entropy_of_the_scaled_softmax_of_an_independently_computed_krr_prediction()
    {
        using var scope = NewDisposeScope();
        var p = Make(24, 1e-3);
        var images = tensor(p.Images, dtype: float64).reshape(SupportShape);
        var labels = tensor(p.Labels, dtype: float64).reshape(6, Classes);

        // Independent: explicit λ, a general LU solve, then −log softmax written out in doubles with the target
        // classes taken from the label ids (i mod 3 in Make), not from the encoded targets.
        var kss = p.Kernel.Compute(images, images);
        var kts = p.Kernel.Compute(p.TargetImages, images);
        var lambda = p.Reg * Enumerable.Range(0, 6).Sum(i => kss[i, i].item<double>()) / 6;
        var predictions = Matrix(kts.matmul(linalg.solve(kss + lambda * eye(6, dtype: float64), labels)));
        var tau = Math.Exp(PlattLogTemperature);
        var total = 0.0;
        for (var row = 0; row < 20; row++)
        {
            var logits = Enumerable.Range(0, Classes).Select(c => tau * predictions[row, c]).ToArray();
            var largest = logits.Max();
            var logSumExp = largest + Math.Log(logits.Sum(z => Math.Exp(z - largest)));
            total += logSumExp - logits[row % Classes];
        }
        var expected = total / 20;

        PlattLoss(p, p.Images, p.Labels, PlattLogTemperature).Should().BeApproximately(expected, 1e-12 * expected);
    }

    private static double RelativeError(double actual, double expected, double floor) =>
        Math.Abs(actual - expected) / Math.Max(Math.Max(Math.Abs(actual), Math.Abs(expected)), floor);
}
