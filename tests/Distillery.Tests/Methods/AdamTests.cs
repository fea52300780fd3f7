using Distillery.Kip;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class AdamTests
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>Textbook Adam in plain doubles: m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − lr·m̂/(√v̂ + ε).</summary>
    private static double[] Textbook(double[] parameter, IReadOnlyList<double[]> gradients, double lr)
    {
        var theta = (double[])parameter.Clone();
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (var t = 1; t <= gradients.Count; t++)
        {
            var g = gradients[t - 1];
            for (var i = 0; i < theta.Length; i++)
            {
                m[i] = Beta1 * m[i] + (1 - Beta1) * g[i];
                v[i] = Beta2 * v[i] + (1 - Beta2) * g[i] * g[i];
                var mHat = m[i] / (1 - Math.Pow(Beta1, t));
                var vHat = v[i] / (1 - Math.Pow(Beta2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + Epsilon);
            }
        }
        return theta;
    }

    [Fact]
    public void One_step_equals_the_textbook_formula()
    {
        using var scope = NewDisposeScope();
        var random = new Random(31);
        var start = Gaussian(random, 12);
        // Include tiny gradients (where ε matters), a zero and a large one.
        var gradient = Gaussian(random, 12);
        gradient[0] = 1e-9; gradient[1] = -3e-8; gradient[2] = 0; gradient[3] = 250;

        var parameter = tensor(start, dtype: float64).reshape(3, 4);
        using var adam = new Adam(parameter, 0.04);
        adam.Update(tensor(gradient, dtype: float64).reshape(3, 4), 1);

        var expected = Textbook(start, [gradient], 0.04);
        var actual = Values(adam.Parameter);
        for (var i = 0; i < actual.Length; i++)
            actual[i].Should().BeApproximately(expected[i], 1e-13 * Math.Max(1, Math.Abs(expected[i])), $"coordinate {i}");
        ReferenceEquals(adam.Parameter, parameter).Should().BeTrue("Adam updates its parameter in place");
        Values(parameter).Should().Equal(actual);

        // The moments after one step: m = (1−β₁)g, v = (1−β₂)g².
        var m = Values(adam.FirstMoment);
        var v = Values(adam.SecondMoment);
        for (var i = 0; i < m.Length; i++)
        {
            m[i].Should().BeApproximately((1 - Beta1) * gradient[i], 1e-15 * Math.Max(1, Math.Abs(gradient[i])));
            v[i].Should().BeApproximately((1 - Beta2) * gradient[i] * gradient[i], 1e-15 * Math.Max(1, gradient[i] * gradient[i]));
        }
    }

    [Fact]
    public void Several_steps_equal_the_textbook_formula()
    {
        using var scope = NewDisposeScope();
        var random = new Random(32);
        var start = Gaussian(random, 8);
        var gradients = Enumerable.Range(0, 5).Select(_ => Gaussian(random, 8)).ToList();

        var parameter = tensor(start, dtype: float64);
        using var adam = new Adam(parameter, 0.01);
        for (var t = 1; t <= gradients.Count; t++) adam.Update(tensor(gradients[t - 1], dtype: float64), t);

        var expected = Textbook(start, gradients, 0.01);
        var actual = Values(parameter);
        for (var i = 0; i < actual.Length; i++)
            actual[i].Should().BeApproximately(expected[i], 1e-13 * Math.Max(1, Math.Abs(expected[i])), $"coordinate {i}");
    }

    [Fact]
    public void A_rate_factor_scales_the_learning_rate_of_that_update_only()
    {
        using var scope = NewDisposeScope();
        var random = new Random(33);
        var start = Gaussian(random, 8);
        var gradients = Enumerable.Range(0, 3).Select(_ => Gaussian(random, 8)).ToList();

        var scaled = tensor(start, dtype: float64);
        using var scaledAdam = new Adam(scaled, 0.04);
        var plain = tensor(start, dtype: float64);
        using var plainAdam = new Adam(plain, 0.04 * 0.25);
        for (var t = 1; t <= gradients.Count; t++)
        {
            scaledAdam.Update(tensor(gradients[t - 1], dtype: float64), t, 0.25);
            plainAdam.Update(tensor(gradients[t - 1], dtype: float64), t);
        }

        var expected = Textbook(start, gradients, 0.01);
        var actual = Values(scaled);
        for (var i = 0; i < actual.Length; i++)
            actual[i].Should().BeApproximately(expected[i], 1e-13 * Math.Max(1, Math.Abs(expected[i])), $"coordinate {i}");
        Values(scaledAdam.FirstMoment).Should().Equal(Values(plainAdam.FirstMoment), "the factor changes the step, not the moments");
        Values(scaledAdam.SecondMoment).Should().Equal(Values(plainAdam.SecondMoment));
    }
}
