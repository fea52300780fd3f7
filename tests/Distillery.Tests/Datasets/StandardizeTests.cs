using Distillery.Datasets;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Datasets.IdxTestFiles;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

public sealed class StandardizeTests
{
    private static Tensor RandomImages(long n, long channels, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator(0, CPU);
        generator.manual_seed(42);
        // Each channel its own scale and offset, so per-channel statistics matter.
        var scale = arange(1, channels + 1, dtype: dtype).view(1, -1, 1, 1);
        return rand(new long[] { n, channels, 6, 5 }, dtype: dtype, generator: generator) * scale + scale * 3;
    }

    [Fact]
    public void Train_images_get_mean_zero_and_std_one_per_channel()
    {
        using var scope = NewDisposeScope();
        var train = RandomImages(200, 3);

        var transform = new StandardizePreprocessor().Fit(Run(), train, new StandardizeOptions());
        var z = transform.Forward(train);

        var mean = z.mean([0L, 2L, 3L]).data<float>().ToArray();
        var std = z.std([0L, 2L, 3L], unbiased: false).data<float>().ToArray();
        mean.Should().AllSatisfy(m => m.Should().BeApproximately(0f, 1e-5f));
        std.Should().AllSatisfy(s => s.Should().BeApproximately(1f, 1e-5f));
        z.dtype.Should().Be(ScalarType.Float32);
        transform.State.Keys.Should().BeEquivalentTo("mean", "std");
        transform.State["mean"].shape.Should().Equal(3);
    }

    [Fact]
    public void Inverse_undoes_forward()
    {
        using var scope = NewDisposeScope();
        var train = RandomImages(50, 2);

        var transform = new StandardizePreprocessor().Fit(Run(), train, new StandardizeOptions());

        transform.Inverse(transform.Forward(train)).allclose(train, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Test_images_use_the_train_statistics()
    {
        using var scope = NewDisposeScope();
        var train = RandomImages(100, 3);
        var test = RandomImages(10, 3) + 1.0f;

        var transform = new StandardizePreprocessor().Fit(Run(), train, new StandardizeOptions());
        var mean = train.mean([0L, 2L, 3L]).view(1, -1, 1, 1);
        var std = train.std([0L, 2L, 3L], unbiased: false).view(1, -1, 1, 1);

        transform.Forward(test).allclose((test - mean) / std, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Preserves_dtype_and_uses_epsilon_on_constant_channels()
    {
        using var scope = NewDisposeScope();
        var train = ones(new long[] { 4, 1, 2, 2 }, dtype: ScalarType.Float64) * 0.5;

        var transform = new StandardizePreprocessor().Fit(Run(), train, new StandardizeOptions { Epsilon = 0.25 });
        var z = transform.Forward(train);

        z.dtype.Should().Be(ScalarType.Float64);
        transform.State["std"].item<double>().Should().Be(0.25);
        z.abs().max().item<double>().Should().Be(0);
        transform.Forward(train.to_type(ScalarType.Float32)).dtype.Should().Be(ScalarType.Float32);
    }
}
