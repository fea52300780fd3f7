using Distillery.Abstractions.Plugins;
using Distillery.Kernels.RandomFeatures;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.RandomFeatures.RandomFeatureTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>IRedrawableKernel: perStep draws from the caller's generator, null restores the initial draw, fixed ignores redraws.</summary>
public sealed class RedrawTests
{
    [Fact]
    public void PerStep_redraws_from_the_generator_and_null_restores_the_initial_draw()
    {
        using var scope = NewDisposeScope();
        var x = RandomImages(9, 4, 1, 8);
        var run = Run();
        var kernel = (IRedrawableKernel)Create(Small());
        var initial = kernel.Compute(x, x);

        using (var generator = run.CreateGenerator("kip.kernel", 1)) kernel.Redraw(generator);
        var step1 = kernel.Compute(x, x);
        using (var generator = run.CreateGenerator("kip.kernel", 1)) kernel.Redraw(generator);
        var step1Again = kernel.Compute(x, x);
        using (var generator = run.CreateGenerator("kip.kernel", 2)) kernel.Redraw(generator);
        var step2 = kernel.Compute(x, x);
        kernel.Redraw(null);
        var restored = kernel.Compute(x, x);

        BitIdentical(step1, initial).Should().BeFalse("a redraw gives new networks");
        BitIdentical(step1Again, step1).Should().BeTrue("the same generator seed gives the same networks");
        BitIdentical(step2, step1).Should().BeFalse();
        BitIdentical(restored, initial).Should().BeTrue("null restores the initial draw");

        BitIdentical(Create(Small(), seed: 11).Compute(x, x), initial).Should().BeTrue("the initial draw follows the run seed");
        BitIdentical(Create(Small(), seed: 12).Compute(x, x), initial).Should().BeFalse();
    }

    [Fact]
    public void Fixed_ignores_redraws()
    {
        using var scope = NewDisposeScope();
        var x = RandomImages(10, 4, 1, 8);
        var kernel = (IRedrawableKernel)Create(Small(RedrawMode.Fixed));
        var initial = kernel.Compute(x, x);

        using (var generator = Run().CreateGenerator("kip.kernel", 1)) kernel.Redraw(generator);
        BitIdentical(kernel.Compute(x, x), initial).Should().BeTrue();
        kernel.Redraw(null);
        BitIdentical(kernel.Compute(x, x), initial).Should().BeTrue();
    }

    [Theory]
    [InlineData(RedrawMode.PerStep)]
    [InlineData(RedrawMode.Fixed)]
    public void The_evaluation_draw_extends_the_initial_networks_and_training_draws_keep_models(RedrawMode mode)
    {
        using var scope = NewDisposeScope();
        var x = RandomImages(12, 5, 1, 8);
        var options = Small(mode);
        options.EvaluationModels = 5;
        var kernel = (IRedrawableKernel)Create(options);
        var fiveOptions = Small(RedrawMode.Fixed);
        fiveOptions.Models = 5;
        var fiveNetworks = Create(fiveOptions).Compute(x, x);
        var twoNetworks = Create(Small(RedrawMode.Fixed)).Compute(x, x); // Small() has models = 2

        BitIdentical(kernel.Compute(x, x), fiveNetworks).Should().BeTrue("before any step the kernel is the evaluation draw");
        using (var generator = Run().CreateGenerator("kip.kernel", 1)) kernel.Redraw(generator);
        var training = kernel.Compute(x, x);
        if (mode == RedrawMode.Fixed)
            BitIdentical(training, twoNetworks).Should().BeTrue("a fixed training draw is the first `models` networks of the evaluation draw");
        else
            BitIdentical(training, twoNetworks).Should().BeFalse("a per-step draw has new networks");
        kernel.Redraw(null);
        BitIdentical(kernel.Compute(x, x), fiveNetworks).Should().BeTrue("null restores the evaluation draw");
    }

    [Fact]
    public void Networks_drawn_inside_a_dispose_scope_survive_it()
    {
        // KIP redraws inside each step's dispose scope; the networks must outlive it.
        var x = RandomImages(11, 3, 1, 8);
        var kernel = (IRedrawableKernel)Create(Small());
        using (var generator = Run().CreateGenerator("kip.kernel", 1)) kernel.Redraw(generator);
        Tensor first;
        using (var step = NewDisposeScope()) first = kernel.Compute(x, x).DetachFromDisposeScope();
        using var second = kernel.Compute(x, x);
        BitIdentical(first, second).Should().BeTrue();
        first.Dispose();
    }

    [Fact]
    public void Images_of_another_dtype_are_rejected_clearly()
    {
        using var scope = NewDisposeScope();
        var kernel = Create(Small());
        var act = () => kernel.Compute(RandomImages(1, 2, 1, 8).to(float32), RandomImages(2, 2, 1, 8).to(float32));
        act.Should().Throw<ArgumentException>().WithMessage("*convnet-rf*Float64*Float32*");
    }
}
