using Distillery.Abstractions.Data;
using Distillery.Kip;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.RandomFeatures.RandomFeatureTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>Autograd through the random networks to the support images agrees with finite differences (float64).</summary>
public sealed class GradientTests(ITestOutputHelper output)
{
    [Fact]
    public void Gradient_with_respect_to_support_images_matches_finite_differences()
    {
        using var scope = NewDisposeScope();
        var kernel = Create(Small());
        var support = RandomImages(12, 3, 1, 8);
        var target = RandomImages(13, 6, 1, 8);
        var supportTargets = RegressionTargets.Encode(tensor(new long[] { 0, 1, 2 }), 3, float64, CPU);
        var targetTargets = RegressionTargets.Encode(tensor(new long[] { 0, 1, 2, 0, 1, 2 }), 3, float64, CPU);
        double Loss(Tensor images) => KipLoss.Compute(kernel, images, supportTargets, target, targetTargets, 1e-3).item<double>();

        var leaf = support.clone().requires_grad_(true);
        var gradient = autograd.grad([KipLoss.Compute(kernel, leaf, supportTargets, target, targetTargets, 1e-3)], [leaf])[0];
        gradient.isfinite().all().item<bool>().Should().BeTrue();
        gradient.abs().max().item<double>().Should().BeGreaterThan(0);

        const double eps = 1e-6;
        foreach (var (image, h, w) in new[] { (0, 3, 4), (1, 0, 0), (2, 7, 5) })
        {
            var plus = support.clone();
            plus[image, 0, h, w] = plus[image, 0, h, w] + eps;
            var minus = support.clone();
            minus[image, 0, h, w] = minus[image, 0, h, w] - eps;
            var numeric = (Loss(plus) - Loss(minus)) / (2 * eps);
            var analytic = gradient[image, 0, h, w].item<double>();
            output.WriteLine($"∂loss/∂x[{image},0,{h},{w}]: autograd {analytic:E6}, finite difference {numeric:E6}");
            analytic.Should().BeApproximately(numeric, 1e-6 + 1e-4 * Math.Abs(numeric));
        }
    }
}
