using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Distillery.Evaluation;
using Distillery.Kernels;
using Distillery.Kernels.Layers;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class KernelRidgeEvaluatorTests
{
    private const int Classes = 3;

    private static EvaluationContext Context(SupportSet support, ImageSet test, Distillery.Abstractions.Plugins.IKernelFunction? kernel) => new()
    {
        Device = CPU, DType = float64, Seed = 1, Logger = NullLogger.Instance,
        Support = support, Test = test, Kernel = kernel,
    };

    private static Serial Kernel() =>
        FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1, Output = KernelOutput.Ntk });

    /// <summary>Independent KRR: explicit λ, an LU solve, argmax per row in plain C#; plus the mean squared error.</summary>
    private static (double Accuracy, double Loss) Expected(Serial kernel, SupportSet support, ImageSet test, double reg)
    {
        var kss = kernel.Compute(support.Images, support.Images);
        var n = support.Count;
        var lambda = reg * Enumerable.Range(0, n).Sum(i => kss[i, i].item<double>()) / n;
        var predictions = Matrix(kernel.Compute(test.Images, support.Images)
            .matmul(linalg.solve(kss + lambda * eye(n, dtype: float64), support.Targets)));
        var labels = Values(test.Labels).Select(v => (long)v).ToArray();
        var encoded = Matrix(EncodeTargets(labels, Classes));
        int correct = 0;
        double squared = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var best = 0;
            for (var c = 0; c < Classes; c++)
            {
                if (predictions[i, c] > predictions[i, best]) best = c;
                squared += Math.Pow(predictions[i, c] - encoded[i, c], 2);
            }
            if (best == labels[i]) correct++;
        }
        return ((double)correct / labels.Length, 0.5 * squared / (labels.Length * Classes));
    }

    private static SupportSet SupportFrom(ImageSet set, int perClass)
    {
        var indices = Enumerable.Range(0, perClass * Classes).Select(i => (long)i).ToArray(); // labels interleave classes
        var chosen = set.Select(indices);
        var labels = Values(chosen.Labels).Select(v => (long)v).ToArray();
        return new SupportSet(chosen.Images, EncodeTargets(labels, Classes), chosen.Labels);
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(7)]
    [InlineData(1)]
    public void Separable_data_is_classified_perfectly(int blockSize)
    {
        using var scope = NewDisposeScope();
        var random = new Random(51);
        var data = ClusteredImages(random, Classes, 2 + 10, [1, 2, 2], noise: 0.05);
        var support = SupportFrom(data, 2);
        var test = data.Select(Enumerable.Range(6, 30).Select(i => (long)i).ToArray());
        var kernel = Kernel();

        var result = new KernelRidgeEvaluator().Evaluate(Context(support, test, kernel),
            new KernelRidgeEvaluatorOptions { BlockSize = blockSize });

        var (accuracy, loss) = Expected(kernel, support, test, 1e-6);
        accuracy.Should().Be(1.0);
        result["testAccuracy"].Should().Be(1.0);
        result["testCount"].Should().Be(30);
        result["testLoss"].Should().BeApproximately(loss, 1e-6 * loss);
    }

    [Theory]
    [InlineData(5000)]
    [InlineData(7)]
    public void Accuracy_and_loss_match_an_independent_krr_on_overlapping_classes(int blockSize)
    {
        using var scope = NewDisposeScope();
        var random = new Random(52);
        var data = ClusteredImages(random, Classes, 3 + 40, [1, 3, 3], noise: 1.2);
        var support = SupportFrom(data, 3);
        var test = data.Select(Enumerable.Range(9, 120).Select(i => (long)i).ToArray());
        var kernel = Kernel();
        var options = new KernelRidgeEvaluatorOptions { Regularization = 1e-3, BlockSize = blockSize };

        var result = new KernelRidgeEvaluator().Evaluate(Context(support, test, kernel), options);

        var (accuracy, loss) = Expected(kernel, support, test, 1e-3);
        accuracy.Should().BeInRange(0.05, 0.99, "the test must exercise wrong predictions too");
        result["testAccuracy"].Should().Be(accuracy);
        result["testLoss"].Should().BeApproximately(loss, 1e-9 * loss);
        result["testCount"].Should().Be(120);
    }

    [Fact]
    public void Float32_test_images_are_converted_to_the_support_dtype()
    {
        using var scope = NewDisposeScope();
        var random = new Random(53);
        var data = ClusteredImages(random, Classes, 12, [1, 2, 2], noise: 0.05);
        var support = SupportFrom(data, 2);
        var test = data.Select(Enumerable.Range(6, 30).Select(i => (long)i).ToArray());
        var test32 = test with { Images = test.Images.to(float32) };

        var result = new KernelRidgeEvaluator().Evaluate(Context(support, test32, Kernel()), new KernelRidgeEvaluatorOptions { BlockSize = 4 });
        result["testAccuracy"].Should().Be(1.0);
    }

    [Fact]
    public void Missing_kernel_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        var data = ClusteredImages(new Random(54), Classes, 4, [1, 2, 2], noise: 0.05);
        var act = () => new KernelRidgeEvaluator().Evaluate(Context(SupportFrom(data, 1), data, null), new KernelRidgeEvaluatorOptions());
        act.Should().Throw<DistilleryException>().WithMessage("*krr*kernel*");
    }
}
