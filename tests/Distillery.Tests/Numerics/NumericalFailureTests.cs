using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using Distillery.Engine.Runs;
using Distillery.Evaluation.Transfer;
using Distillery.Host.Cli;
using Distillery.Kernels;
using Distillery.LabelSolve;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static Distillery.Tests.Transfer.TransferTestData;
using static TorchSharp.torch;

namespace Distillery.Tests.Numerics;

/// <summary>Issue 13, kinds 1 and 3: non-finite numbers and singular solves end in one explained failure, never in a result.</summary>
public sealed class NumericalFailureTests
{
    /// <summary>K_ss of four identical images: every entry is the same, so K_ss has rank 1.</summary>
    private static Tensor IdenticalKernel(ScalarType dtype) => full(4, 4, 2.5, dtype: dtype);

    [Fact]
    public void A_singular_solve_names_the_step_the_matrix_the_ridge_used_and_the_dtype()
    {
        using var scope = NewDisposeScope();
        var targets = EncodeTargets([0, 0, 1, 1], 2).to(float32);

        var act = () => KernelRidge.SolveWeights(IdenticalKernel(float32), targets, 1e-12, "evaluator 'krr'", "the krr evaluator's options.regularization");

        // λ = 1e-12 × mean diagonal 2.5 = 2.5e-12, below float32's resolution at 2.5: the rows stay exactly equal.
        act.Should().Throw<NumericalFailureException>().Which.Message.Should().Be(
            "evaluator 'krr': cannot solve with K_ss + λI (4×4, Float32, λ = 2.5E-12 = the krr evaluator's options.regularization 1E-12 × " +
            "mean diagonal 2.5): the matrix is singular in Float32, as when support images repeat or nearly coincide; raise the krr " +
            "evaluator's options.regularization (1e-6 is the usual default) or run in float64 (\"dtype\": \"float64\")");
    }

    [Fact]
    public void The_same_system_solves_in_float64_as_the_advice_says()
    {
        using var scope = NewDisposeScope();
        var kss = IdenticalKernel(float64);
        var targets = EncodeTargets([0, 0, 1, 1], 2);

        var weights = KernelRidge.SolveWeights(kss, targets, 1e-12);

        // (K + λI) α = y holds to float64 rounding; λ = 2.5e-12 makes the system solvable but ill-conditioned.
        var residual = (kss + 2.5e-12 * eye(4, dtype: float64)).matmul(weights) - targets;
        residual.abs().max().item<double>().Should().BeLessThan(1e-3);
        FiniteCheck.CountNonFinite(weights).Should().Be(0);
    }

    [Fact]
    public void A_non_finite_kernel_matrix_is_refused_before_solving()
    {
        using var scope = NewDisposeScope();
        var kss = eye(3, dtype: float32);
        kss[1, 2] = tensor(float.NaN);
        kss[2, 1] = tensor(float.PositiveInfinity);

        var act = () => KernelRidge.Predict(ones(5, 3), kss, ones(3, 2), 1e-6, "KIP step 7", "algorithm.options.regularization");

        act.Should().Throw<NumericalFailureException>()
            .WithMessage("KIP step 7: the kernel matrix K_ss (3×3, Float32) became non-finite (2 of 9 values are NaN or infinite); *float64*");
    }

    [Fact]
    public void Label_solve_with_repeated_support_images_and_a_ridge_below_float64_resolution_names_label_solve()
    {
        using var scope = NewDisposeScope();
        var random = new Random(5);
        var image = RandomTensor(random, float64, 1, 1, 4, 4);
        var support = image.expand(6, 1, 4, 4).contiguous(); // six copies of one image
        var targets = ClusteredImages(random, 3, 10, [1, 4, 4], noise: 1.0);
        var kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions());

        // The host names the section; the advice follows it (an algorithm is always "algorithm", but the plugin cannot know that).
        var run = new RunContext { Device = CPU, DType = float64, Seed = 1, Logger = NullLogger.Instance, ManifestSection = "algorithm" };
        var act = () => LabelSolveAlgorithm.SolveLabels(run, kernel, support, targets, new LabelSolveOptions { Regularization = 1e-18 });

        act.Should().Throw<NumericalFailureException>().WithMessage(
            "Label Solve: cannot solve with K_ss + λI (6×6, Float64, λ = * = algorithm.options.regularization 1E-18 × mean diagonal *): " +
            "the matrix is singular in Float64*raise algorithm.options.regularization (1e-6 is the usual default)");
    }

    [Fact]
    public void Transfer_refuses_an_accuracy_computed_from_non_finite_network_outputs()
    {
        using var scope = NewDisposeScope();
        var train = Patterns(perClass: 4, seed: 3);
        var test = Patterns(perClass: 2, seed: 4);
        test.Images[1, 0, 0, 0] = tensor(float.PositiveInfinity, dtype: test.Images.dtype);
        var options = new TransferOptions { Network = TransferNetwork.Fc, Steps = 2, Seeds = 1 };

        var act = () => new TransferEvaluator().Evaluate(EvaluationRun(Support(train), test), options);

        act.Should().Throw<NumericalFailureException>().WithMessage(
            "evaluator 'transfer': the trained network's outputs on test images 0–* became non-finite (* values are NaN or infinite); " +
            "the test images' largest magnitude is *");
    }

    [Fact]
    public void Standardize_with_epsilon_0_refuses_a_channel_that_never_varies_and_names_it()
    {
        using var scope = NewDisposeScope();
        var images = rand(5, 3, 4, 4);
        images[.., 2] = zeros(5, 4, 4); // blue is 0 everywhere

        var act = () => new StandardizePreprocessor().Fit(Run(float32), images, new StandardizeOptions { Epsilon = 0 });

        act.Should().Throw<OptionException>().Which.Option.Should().Be("epsilon", "the plugin names its option; the host adds the section's path");
        act.Should().Throw<OptionException>().WithMessage(
            "options.epsilon: standardize: channel 2 (every value 0) of the 3-channel training images does not vary over the 5 images, and epsilon is 0*set it > 0*");
        var standardized = new StandardizePreprocessor().Fit(Run(float32), images, new StandardizeOptions()).Forward(images);
        FiniteCheck.CountNonFinite(standardized).Should().Be(0, "the default epsilon keeps a constant channel finite (it becomes 0)");
        standardized[.., 2].abs().max().item<float>().Should().Be(0);
    }

    [Fact]
    public void Zca_without_regularization_names_the_channel_that_makes_its_covariance_singular()
    {
        using var scope = NewDisposeScope();
        var images = rand(40, 2, 2, 2, dtype: float64); // 40 images of 8 features: full rank but for the constant channel
        images[.., 1] = full(40, 2, 2, 0.5, dtype: float64);

        var act = () => new ZcaPreprocessor().Fit(Run(float64), images, new ZcaOptions { Regularization = 0, LayerNorm = false });

        act.Should().Throw<OptionException>().WithMessage(
            "options.regularization: zca: the training covariance is singular (smallest eigenvalue *): channel 1 of the training images never varies and regularization is 0*set it > 0");
    }

    [Fact]
    public void The_host_refuses_a_non_finite_support_set_from_any_algorithm_and_non_finite_figures_from_any_evaluator()
    {
        using var scope = NewDisposeScope();
        var support = new SupportSet(tensor(new[] { 1f, float.NaN, 2f, 3f }).view(4, 1, 1, 1), zeros(4, 2), zeros(4, int64));

        FluentActions.Invoking(() => ResultGuards.RequireFiniteSupport("mean-images", support))
            .Should().Throw<NumericalFailureException>()
            .WithMessage("algorithm 'mean-images': the support images it returned became non-finite (1 of 4 values are NaN or infinite); *");
        FluentActions.Invoking(() => ResultGuards.RequireFiniteFigures("krr", new Dictionary<string, double> { ["testAccuracy"] = 0.1, ["testLoss"] = double.NaN }))
            .Should().Throw<NumericalFailureException>().WithMessage("evaluator 'krr': testLoss = NaN is not finite, so no figure was written; *");
        ResultGuards.RequireFiniteFigures("krr", new Dictionary<string, double> { ["testAccuracy"] = 0.9 }).Should().ContainKey("testAccuracy");
    }

    [Fact]
    public void A_libtorch_error_reaches_the_console_as_its_first_line_without_the_cpp_backtrace()
    {
        var libtorch = new System.Runtime.InteropServices.ExternalException(
            "torch.linalg.solve: The solver failed because the input matrix is singular.\nException raised from _linalg_check_errors at …\nframe #0: c10::Error::Error(…)");

        Errors.Describe(libtorch).Should().Be("the run failed: ExternalException: torch.linalg.solve: The solver failed because the input matrix is singular.");
        Errors.Describe(new NumericalFailureException("KIP step 3: the KIP loss became NaN; lower …")).Should().Be("KIP step 3: the KIP loss became NaN; lower …");
    }
}
