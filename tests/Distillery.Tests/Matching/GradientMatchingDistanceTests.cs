using Distillery.Matching;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Matching;

/// <summary>DC's layer-wise gradient distance against closed forms written out by hand, and its gradient against finite differences.</summary>
public sealed class GradientMatchingDistanceTests
{
    /// <summary>Σ over rows of 1 − ⟨a, b⟩ / (‖a‖‖b‖ + 1e-6), rows given as plain arrays.</summary>
    private static double RowTerms(double[][] a, double[][] b)
    {
        var total = 0.0;
        for (var r = 0; r < a.Length; r++)
        {
            double dot = 0, aa = 0, bb = 0;
            for (var k = 0; k < a[r].Length; k++)
            {
                dot += a[r][k] * b[r][k];
                aa += a[r][k] * a[r][k];
                bb += b[r][k] * b[r][k];
            }
            total += 1 - dot / (Math.Sqrt(aa) * Math.Sqrt(bb) + 1e-6);
        }
        return total;
    }

    /// <summary>
    /// The cross-entropy gradient of a Linear 3→2 layer, in closed form: for logits z = Wx + b and p = softmax(z), the
    /// loss's gradient is ∂/∂W = mean_i (p_i − e_{y_i}) x_iᵀ and ∂/∂b = mean_i (p_i − e_{y_i}).
    /// </summary>
    private static (double[][] Weight, double[] Bias) LinearCrossEntropyGradient(double[,] w, double[] b, double[][] xs, int[] ys)
    {
        var gw = new[] { new double[3], new double[3] };
        var gb = new double[2];
        for (var i = 0; i < xs.Length; i++)
        {
            var z = new double[2];
            for (var o = 0; o < 2; o++) z[o] = b[o] + w[o, 0] * xs[i][0] + w[o, 1] * xs[i][1] + w[o, 2] * xs[i][2];
            var m = Math.Max(z[0], z[1]);
            var e0 = Math.Exp(z[0] - m);
            var e1 = Math.Exp(z[1] - m);
            double[] p = [e0 / (e0 + e1), e1 / (e0 + e1)];
            for (var o = 0; o < 2; o++)
            {
                var delta = (p[o] - (ys[i] == o ? 1 : 0)) / xs.Length;
                gb[o] += delta;
                for (var k = 0; k < 3; k++) gw[o][k] += delta * xs[i][k];
            }
        }
        return (gw, gb);
    }

    [Fact]
    public void Linear_layer_distance_is_the_sum_of_the_weight_rows_cosine_terms_and_the_bias_adds_nothing()
    {
        using var scope = NewDisposeScope();
        double[,] w = { { 0.3, -0.2, 0.5 }, { -0.4, 0.1, 0.25 } };
        double[] b = [0.05, -0.1];
        double[][] realX = [[1.0, 2.0, -1.0], [0.5, -0.3, 0.8], [-1.2, 0.4, 0.1]];
        int[] realY = [0, 1, 0];
        double[][] synX = [[0.2, -0.7, 1.5], [1.1, 0.9, -0.4]];
        int[] synY = [0, 0];

        var weight = tensor(new[] { 0.3, -0.2, 0.5, -0.4, 0.1, 0.25 }, dtype: float64).reshape(2, 3).requires_grad_(true);
        var bias = tensor(b, dtype: float64).requires_grad_(true);
        Tensor[] Gradient(double[][] xs, int[] ys, bool createGraph)
        {
            var x = tensor(xs.SelectMany(r => r).ToArray(), dtype: float64).reshape(xs.Length, 3);
            var logits = nn.functional.linear(x, weight, bias);
            var loss = nn.functional.cross_entropy(logits, tensor(ys.Select(y => (long)y).ToArray()));
            return autograd.grad([loss], [weight, bias], retain_graph: createGraph, create_graph: createGraph).ToArray();
        }

        var distance = GradientMatchingDistance.Compute(Gradient(realX, realY, false), Gradient(synX, synY, true));

        var (realW, realB) = LinearCrossEntropyGradient(w, b, realX, realY);
        var (synW, synB) = LinearCrossEntropyGradient(w, b, synX, synY);
        realB.Should().NotEqual(synB, "the biases' gradients differ, yet contribute nothing");
        var expected = RowTerms(realW, synW);
        distance.dim().Should().Be(0);
        distance.item<double>().Should().BeApproximately(expected, 1e-12);
        expected.Should().BeInRange(0.01, 2 * 2.0, "a non-trivial case: both rows point apart");
    }

    [Fact]
    public void A_convolution_gradient_is_read_row_per_output_channel_over_input_and_filter_positions()
    {
        using var scope = NewDisposeScope();
        // Two output channels, one input channel, 2×2 filters: rows [out, in·h·w] of four values each.
        double[][] real = [[1, 2, 3, 4], [-1, 0.5, 2, 0]];
        double[][] synthetic = [[2, -1, 0.5, 1], [3, 1, -2, 0.25]];
        var realTensor = tensor(real.SelectMany(r => r).ToArray(), dtype: float64).reshape(2, 1, 2, 2);
        var syntheticTensor = tensor(synthetic.SelectMany(r => r).ToArray(), dtype: float64).reshape(2, 1, 2, 2);
        var realBias = tensor(new[] { 0.3, -0.2 }, dtype: float64);
        var syntheticBias = tensor(new[] { -5.0, 7.0 }, dtype: float64);

        var distance = GradientMatchingDistance.Compute([realTensor, realBias], [syntheticTensor, syntheticBias]);

        distance.item<double>().Should().BeApproximately(RowTerms(real, synthetic), 1e-12);
    }

    [Fact]
    public void Identical_gradients_are_at_distance_zero_up_to_epsilon_and_an_all_zero_row_counts_one()
    {
        using var scope = NewDisposeScope();
        var g = tensor(new[] { 3.0, 4.0, 0.0, 0.0 }, dtype: float64).reshape(2, 2); // row 2 is all zero

        var distance = GradientMatchingDistance.Compute([g], [g]).item<double>();

        // Row 1: 1 − 25/(25 + 1e-6); row 2: 1 − 0/(0 + 1e-6) = 1.
        distance.Should().BeApproximately(1 - 25 / (25 + 1e-6) + 1, 1e-15);
    }

    [Fact]
    public void Only_one_dimensional_gradients_give_zero_and_mismatched_lists_are_refused()
    {
        using var scope = NewDisposeScope();
        var bias = tensor(new[] { 1.0, 2.0 }, dtype: float64);

        GradientMatchingDistance.Compute([bias], [bias.neg()]).item<double>().Should().Be(0);
        var act = () => GradientMatchingDistance.Compute([bias], []);
        act.Should().Throw<ArgumentException>();
        var shapes = () => GradientMatchingDistance.Compute([zeros(2, 3, dtype: float64)], [zeros(3, 2, dtype: float64)]);
        shapes.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void The_gradient_reaching_the_synthetic_images_matches_central_differences()
    {
        using var scope = NewDisposeScope();
        var random = new Random(5);
        var weight = RandomTensor(random, float64, 3, 4).requires_grad_(true);
        var bias = RandomTensor(random, float64, 3).requires_grad_(true);
        var realX = RandomTensor(random, float64, 6, 4);
        var labels = tensor(new long[] { 0, 1, 2, 0, 1, 2 });
        var synthetic = RandomTensor(random, float64, 3, 4);
        var syntheticLabels = tensor(new long[] { 0, 1, 2 });

        IList<Tensor> Gradient(Tensor x, Tensor y, bool createGraph) =>
            autograd.grad([nn.functional.cross_entropy(nn.functional.tanh(nn.functional.linear(x, weight, bias)), y)], [weight, bias], retain_graph: createGraph, create_graph: createGraph);
        var realGradient = Gradient(realX, labels, false).Select(g => g.detach()).ToArray();
        double Distance(Tensor s) => GradientMatchingDistance.Compute(realGradient, Gradient(s, syntheticLabels, true).ToArray()).item<double>();

        var leaf = synthetic.clone().requires_grad_(true);
        var analytic = Values(autograd.grad([GradientMatchingDistance.Compute(realGradient, Gradient(leaf, syntheticLabels, true).ToArray())], [leaf])[0]);

        var flat = Values(synthetic);
        const double h = 1e-6;
        for (var i = 0; i < flat.Length; i++)
        {
            var plus = (double[])flat.Clone();
            var minus = (double[])flat.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (Distance(tensor(plus, dtype: float64).reshape(3, 4)) - Distance(tensor(minus, dtype: float64).reshape(3, 4))) / (2 * h);
            analytic[i].Should().BeApproximately(numeric, 1e-6 * Math.Max(1, Math.Abs(numeric)), $"entry {i}");
        }
        analytic.Should().Contain(v => Math.Abs(v) > 1e-4, "the distance depends on the synthetic inputs");
    }
}
