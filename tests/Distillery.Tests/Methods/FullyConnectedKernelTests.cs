using Distillery.Kernels;
using Distillery.Kernels.Layers;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class FullyConnectedKernelTests
{
    private static Serial Fc(int depth, KernelOutput output, int blockSize = 8192, double wStd = 1.4142135623730951, double bStd = 0.1) =>
        FullyConnectedKernel.Build(new FullyConnectedKernelOptions
        {
            Depth = depth, WStd = wStd, BStd = bStd, Output = output, BlockSize = blockSize,
        });

    private static Tensor Point(double[] values, bool asImage) =>
        asImage ? tensor(values, dtype: float64).reshape(1, 1, 1, values.Length) : tensor(values, dtype: float64).reshape(1, values.Length);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Depth1_matches_the_check_values(bool asImage)
    {
        using var scope = NewDisposeScope();
        var x = Point([1, 2, 3], asImage);
        var y = Point([-1, 0.5, 2], asImage);

        var ntk = Fc(1, KernelOutput.Ntk).Compute(x, y);
        var nngp = Fc(1, KernelOutput.Nngp).Compute(x, y);

        ntk.shape.Should().Equal(1, 1);
        ntk.dtype.Should().Be(ScalarType.Float64);
        ntk.item<double>().Should().BeApproximately(7.3016649969, 7.3016649969 * 1e-8);
        nngp.item<double>().Should().BeApproximately(4.3065212844, 4.3065212844 * 1e-8);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Depth3_ntk_of_a_point_with_itself_matches_the_check_value(bool asImage)
    {
        using var scope = NewDisposeScope();
        var x = Point([1, 2, 3], asImage);
        Fc(3, KernelOutput.Ntk).Compute(x, x).item<double>().Should().BeApproximately(37.4333333333, 37.4333333333 * 1e-8);
    }

    [Theory]
    [InlineData(0, KernelOutput.Ntk)]
    [InlineData(1, KernelOutput.Ntk)]
    [InlineData(2, KernelOutput.Ntk)]
    [InlineData(3, KernelOutput.Ntk)]
    [InlineData(0, KernelOutput.Nngp)]
    [InlineData(1, KernelOutput.Nngp)]
    [InlineData(2, KernelOutput.Nngp)]
    [InlineData(3, KernelOutput.Nngp)]
    public void Matches_an_independent_scalar_arccos_implementation(int depth, KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var random = new Random(100 + depth);
        const double wStd = 1.3, bStd = 0.25;
        var x1 = RandomTensor(random, float64, 5, 2, 3, 2);
        var x2 = RandomTensor(random, float64, 4, 2, 3, 2);
        var x1WithDuplicate = cat([x1, x2.narrow(0, 0, 1)], 0); // a pair of identical inputs: correlation exactly 1

        var kernel = Fc(depth, output, wStd: wStd, bStd: bStd).Compute(x1WithDuplicate, x2);

        var actual = Matrix(kernel);
        var rows1 = Enumerable.Range(0, 6).Select(i => Values(x1WithDuplicate[i].flatten())).ToArray();
        var rows2 = Enumerable.Range(0, 4).Select(j => Values(x2[j].flatten())).ToArray();
        for (var i = 0; i < 6; i++)
            for (var j = 0; j < 4; j++)
            {
                var (ntk, nngp) = ReferenceFcKernel(rows1[i], rows2[j], depth, wStd, bStd);
                var expected = output == KernelOutput.Ntk ? ntk : nngp;
                actual[i, j].Should().BeApproximately(expected, 1e-10 * Math.Max(1, Math.Abs(expected)), $"entry ({i},{j})");
            }
    }

    [Theory]
    [InlineData(KernelOutput.Ntk)]
    [InlineData(KernelOutput.Nngp)]
    public void Kernel_matrix_is_symmetric_and_positive_semidefinite(KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var x = RandomTensor(new Random(7), float64, 25, 1, 4, 4);
        var k = Fc(2, output).Compute(x, x);

        MaxRelativeError(k, k.t(), floor: 1e-12).Should().BeLessThan(1e-12);
        var eigenvalues = linalg.eigvalsh(k);
        var largest = eigenvalues.max().item<double>();
        largest.Should().BeGreaterThan(0);
        eigenvalues.min().item<double>().Should().BeGreaterThanOrEqualTo(-1e-10 * largest);

        // K(X, Y) = K(Y, X)ᵀ for different batches too.
        var y = RandomTensor(new Random(8), float64, 9, 1, 4, 4);
        MaxRelativeError(Fc(2, output).Compute(x, y), Fc(2, output).Compute(y, x).t(), floor: 1e-12).Should().BeLessThan(1e-12);
    }

    [Theory]
    [InlineData(KernelOutput.Ntk)]
    [InlineData(KernelOutput.Nngp)]
    public void Blocked_computation_equals_unblocked(KernelOutput output)
    {
        using var scope = NewDisposeScope();
        var random = new Random(11);
        var x = RandomTensor(random, float64, 20, 1, 3, 3);
        var y = RandomTensor(random, float64, 15, 1, 3, 3);

        var whole = Fc(2, output).Compute(x, y);
        var blocked = Fc(2, output, blockSize: 7).Compute(x, y);
        var blockedRowsOnly = Fc(2, output, blockSize: 16).Compute(x, y); // only x exceeds the block

        blocked.shape.Should().Equal(20, 15);
        MaxRelativeError(blocked, whole, floor: 1e-12).Should().BeLessThan(1e-12);
        MaxRelativeError(blockedRowsOnly, whole, floor: 1e-12).Should().BeLessThan(1e-12);

        // A batch with itself: off the diagonal the same to rounding; on it (correlation 1) q₁q₂ − Σ² is 0 up to
        // ±ε·q², which differently blocked products round differently, and its square root is ≈ √ε relative.
        var selfWhole = Fc(2, output).Compute(y, y);
        var selfBlocked = Fc(2, output, blockSize: 7).Compute(y, y);
        var offDiagonal = 1 - eye(15, dtype: float64);
        MaxRelativeError(selfBlocked * offDiagonal, selfWhole * offDiagonal, floor: 1e-12).Should().BeLessThan(1e-12);
        MaxRelativeError(selfBlocked.diagonal(), selfWhole.diagonal()).Should().BeLessThan(1e-7);
    }

    [Fact]
    public void Gradients_through_a_blocked_computation_equal_the_unblocked_ones()
    {
        using var scope = NewDisposeScope();
        var random = new Random(16);
        var x = RandomTensor(random, float64, 20, 1, 3, 3);
        var y = RandomTensor(random, float64, 15, 1, 3, 3);
        var weights = RandomTensor(random, float64, 20, 15);

        Tensor[] Gradients(int blockSize)
        {
            var a = x.detach().clone().requires_grad_(true);
            var b = y.detach().clone().requires_grad_(true);
            var value = (Fc(2, KernelOutput.Ntk, blockSize: blockSize).Compute(a, b) * weights).sum();
            return autograd.grad([value], [a, b]).ToArray();
        }

        var whole = Gradients(8192);
        var blocked = Gradients(7);
        MaxRelativeError(blocked[0], whole[0], floor: 1e-9).Should().BeLessThan(1e-10);
        MaxRelativeError(blocked[1], whole[1], floor: 1e-9).Should().BeLessThan(1e-10);
    }

    [Fact]
    public void Float32_is_close_to_float64()
    {
        using var scope = NewDisposeScope();
        var random = new Random(12);
        var x = RandomTensor(random, float64, 10, 1, 4, 4);
        var y = RandomTensor(random, float64, 8, 1, 4, 4);
        var kernel = Fc(3, KernelOutput.Ntk);

        var k64 = kernel.Compute(x, y);
        var k32 = kernel.Compute(x.to(float32), y.to(float32));
        k32.dtype.Should().Be(ScalarType.Float32);
        MaxRelativeError(k32, k64, floor: 1e-3).Should().BeLessThan(1e-5);

        // With itself: on the diagonal q₁q₂ − Σ² rounds to ±ε·q² and the ReLU's √ of it is ≈ √ε ≈ 3e-4 relative in
        // float32 (an inherent property of the formula, as in neural-tangents), so the tolerance there is wider.
        var d64 = kernel.Compute(x, x);
        var d32 = kernel.Compute(x.to(float32), x.to(float32));
        var offDiagonal = 1 - eye(10, dtype: float64);
        MaxRelativeError(d32.to(float64) * offDiagonal, d64 * offDiagonal, floor: 1e-3).Should().BeLessThan(1e-5);
        MaxRelativeError(d32.diagonal(), d64.diagonal()).Should().BeLessThan(2e-3);
    }

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void Gradients_with_respect_to_both_inputs_are_finite_including_the_diagonal(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var random = new Random(13);
        var kernel = Fc(3, KernelOutput.Ntk);

        // Two different batches, with one shared image (correlation 1 off the diagonal).
        var a = RandomTensor(random, dtype, 5, 1, 3, 3);
        var b = cat([RandomTensor(random, dtype, 3, 1, 3, 3), a.narrow(0, 2, 1)], 0);
        var x1 = a.detach().requires_grad_(true);
        var x2 = b.detach().requires_grad_(true);
        var grads = autograd.grad([kernel.Compute(x1, x2).sum()], [x1, x2]);
        AllFinite(grads[0]).Should().BeTrue();
        AllFinite(grads[1]).Should().BeTrue();

        // A batch with itself: every diagonal entry has q₁q₂ − Σ² = 0.
        var x = a.detach().requires_grad_(true);
        var self = autograd.grad([kernel.Compute(x, x).sum()], [x])[0];
        AllFinite(self).Should().BeTrue();

        // The same values as two separate leaves.
        var left = a.detach().requires_grad_(true);
        var right = a.detach().clone().requires_grad_(true);
        var separate = autograd.grad([kernel.Compute(left, right).sum()], [left, right]);
        AllFinite(separate[0]).Should().BeTrue();
        AllFinite(separate[1]).Should().BeTrue();
    }

    [Fact]
    public void Gradient_of_the_diagonal_matches_its_closed_form()
    {
        // On the diagonal every ReLU sees correlation 1 (θ = 0), so k(x, x) = α·q + β with q = |x|²/d: Dense maps
        // (Σ, Θ) to (W²Σ + b², Σ′ + W²Θ) and ReLU halves both. Hence ∂ tr K(X, X)/∂x_i = α·2x_i/d.
        using var scope = NewDisposeScope();
        const int depth = 3;
        const double w2 = 2.0;
        double alpha = 0, nngpSlope = 1;
        for (var layer = 0; layer <= depth; layer++)
        {
            nngpSlope *= w2;                // Dense on Σ (the bias adds only to β)
            alpha = nngpSlope + w2 * alpha; // Θ′ = Σ′ + W²Θ
            if (layer < depth) { nngpSlope /= 2; alpha /= 2; }
        }

        var kernel = Fc(depth, KernelOutput.Ntk);
        var x0 = RandomTensor(new Random(14), float64, 4, 1, 2, 3);
        var leaf = x0.detach().clone().requires_grad_(true);
        var gradient = autograd.grad([kernel.Compute(leaf, leaf).diagonal().sum()], [leaf])[0];
        var expected = x0 * (alpha * 2 / 6.0);
        MaxRelativeError(gradient, expected, floor: 1e-3).Should().BeLessThan(1e-9);

        // The whole matrix (diagonal and off-diagonal entries) against central differences. The inputs are dyadic
        // rationals with few bits, so x·x and |x|² are exact and the diagonal's q₁q₂ − Σ² is exactly 0 at every
        // perturbed point too; otherwise rounding makes it ±ε·q², and the √ of that (≈ √ε relative) swamps differences.
        var random = new Random(15);
        var flat = Enumerable.Range(0, 24).Select(_ => random.Next(-16, 17) / 8.0).ToArray();
        var shape = new long[] { 4, 1, 2, 3 };
        var weights = RandomTensor(random, float64, 4, 4);

        double Objective(double[] values)
        {
            using var inner = NewDisposeScope();
            var x = tensor(values, dtype: float64).reshape(shape);
            return (kernel.Compute(x, x) * weights).sum().item<double>();
        }

        var point = tensor(flat, dtype: float64).reshape(shape).requires_grad_(true);
        var full = Values(autograd.grad([(kernel.Compute(point, point) * weights).sum()], [point])[0]);
        const double h = 1.0 / (1 << 17);
        for (var index = 0; index < flat.Length; index++)
        {
            var plus = (double[])flat.Clone();
            var minus = (double[])flat.Clone();
            plus[index] += h;
            minus[index] -= h;
            var numeric = (Objective(plus) - Objective(minus)) / (2 * h);
            full[index].Should().BeApproximately(numeric, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"coordinate {index}");
        }
    }

    private static bool AllFinite(Tensor t) => isfinite(t).all().item<bool>();
}
