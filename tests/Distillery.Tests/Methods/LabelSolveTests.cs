using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Distillery.Kernels;
using Distillery.Kernels.Layers;
using Distillery.LabelSolve;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class LabelSolveTests
{
    private const int Classes = 3;

    private static (Serial Kernel, Tensor Support, ImageSet Targets) Problem()
    {
        var random = new Random(41);
        var kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1, Output = KernelOutput.Ntk });
        var support = RandomTensor(random, float64, 12, 1, 4, 4);
        var targets = ClusteredImages(random, Classes, 67, [1, 4, 4], noise: 1.0); // 201 targets
        return (kernel, support, targets);
    }

    /// <summary>A = K_ts (K_ss + λI)⁻¹ whole, λ = reg · tr(K_ss)/n, by an LU solve on K_ssᵀ = K_ss.</summary>
    private static Tensor Design(Serial kernel, Tensor support, Tensor targetImages, double reg)
    {
        var kss = kernel.Compute(support, support);
        var n = support.shape[0];
        var lambda = reg * Enumerable.Range(0, (int)n).Sum(i => kss[i, i].item<double>()) / n;
        var kts = kernel.Compute(targetImages, support);
        return linalg.solve(kss + lambda * eye(n, dtype: float64), kts.t()).t();
    }

    private static double KrrLoss(Tensor design, Tensor labels, Tensor targets) =>
        (targets - design.matmul(labels)).square().sum().item<double>();

    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e-2)]
    public void Solved_labels_are_the_least_squares_solution(double reg)
    {
        using var scope = NewDisposeScope();
        var (kernel, support, targets) = Problem();
        var options = new LabelSolveOptions { Regularization = reg, BlockSize = 5000 };

        var solved = LabelSolveAlgorithm.SolveLabels(Run(), kernel, support, targets, options);

        var design = Design(kernel, support, targets.Images, reg);
        var encoded = EncodeTargets(Values(targets.Labels).Select(v => (long)v).ToArray(), Classes);
        // Least squares through a QR factorisation of A itself (not the normal equations the plugin uses).
        var (q, r) = linalg.qr(design);
        var expected = linalg.solve_triangular(r, q.t().matmul(encoded), upper: true);

        solved.shape.Should().Equal(12, Classes);
        solved.dtype.Should().Be(ScalarType.Float64);
        MaxRelativeError(solved, expected, floor: 1e-3 * expected.abs().max().item<double>()).Should().BeLessThan(1e-6);

        // Optimality: no random perturbation of y* fits the targets better.
        var best = KrrLoss(design, solved, encoded);
        var random = new Random(42);
        var scale = solved.abs().max().item<double>();
        foreach (var size in new[] { 1e-4, 1e-2, 1.0 })
            for (var trial = 0; trial < 17; trial++)
            {
                using var inner = NewDisposeScope();
                var perturbed = solved + RandomTensor(random, float64, 12, Classes) * (size * scale);
                KrrLoss(design, perturbed, encoded).Should().BeGreaterThanOrEqualTo(best);
            }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(200)]
    public void Block_accumulation_gives_the_same_labels(int blockSize)
    {
        using var scope = NewDisposeScope();
        var (kernel, support, targets) = Problem();
        var whole = LabelSolveAlgorithm.SolveLabels(Run(), kernel, support, targets, new LabelSolveOptions { BlockSize = 100000 });
        var progress = new RecordingProgress();
        var run = new RunContext { Device = CPU, DType = float64, Seed = 1, Logger = NullLogger.Instance, Progress = progress };

        var blocked = LabelSolveAlgorithm.SolveLabels(run, kernel, support, targets, new LabelSolveOptions { BlockSize = blockSize });

        MaxRelativeError(blocked, whole, floor: 1e-3 * whole.abs().max().item<double>()).Should().BeLessThan(1e-8);
        var blocks = (targets.Count + blockSize - 1) / blockSize;
        progress.Starts.Should().ContainSingle().Which.Total.Should().Be(blocks);
        progress.Updates.Select(u => u.Step).Should().Equal(Enumerable.Range(1, blocks).Select(i => (long)i));
    }

    [Fact]
    public void Float32_support_gets_float32_labels_close_to_the_float64_solution()
    {
        using var scope = NewDisposeScope();
        var (kernel, support, targets) = Problem();
        var options = new LabelSolveOptions { Regularization = 1e-2 };
        var exact = LabelSolveAlgorithm.SolveLabels(Run(), kernel, support, targets, options);
        var single = LabelSolveAlgorithm.SolveLabels(Run(float32), kernel, support.to(float32),
            targets with { Images = targets.Images.to(float32) }, options);
        single.dtype.Should().Be(ScalarType.Float32);
        MaxRelativeError(single, exact, floor: 1e-2 * exact.abs().max().item<double>()).Should().BeLessThan(1e-2);
    }
}
