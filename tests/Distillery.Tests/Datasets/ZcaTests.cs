using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

public sealed class ZcaTests
{
    /// <summary>Correlated float64 images: independent normals mixed by a random matrix, plus an offset.</summary>
    private static Tensor CorrelatedImages(long n, long[] imageShape, long seed = 1)
    {
        var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        var d = imageShape.Aggregate(1L, (a, b) => a * b);
        var mixing = randn([d, d], dtype: ScalarType.Float64, generator: generator);
        var offset = randn([d], dtype: ScalarType.Float64, generator: generator);
        var flat = randn([n, d], dtype: ScalarType.Float64, generator: generator).matmul(mixing) + offset;
        return flat.reshape([n, .. imageShape]);
    }

    private static RunContext Run(RecordingLogger logger) =>
        new() { Device = CPU, DType = ScalarType.Float64, Seed = 0, Logger = logger };

    private static Tensor Covariance(Tensor images)
    {
        var flat = images.reshape(images.shape[0], -1);
        var centred = flat - flat.mean([0L], keepdim: true);
        return centred.T.matmul(centred) / flat.shape[0];
    }

    [Fact]
    public void Whitened_train_features_have_identity_covariance_when_the_ridge_is_small()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(3000, [2, 3, 3]);

        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions { LayerNorm = false, Regularization = 1e-9 });
        var z = transform.Forward(train);

        Covariance(z).allclose(eye(18, dtype: ScalarType.Float64), rtol: 0, atol: 1e-6).Should().BeTrue();
        z.reshape(3000, -1).mean([0L]).abs().max().item<double>().Should().BeLessThan(1e-9);
        transform.State.Keys.Should().BeEquivalentTo("mean", "whitening", "unwhitening", "layerNorm");
    }

    [Fact]
    public void The_ridge_scales_the_whitened_covariance_as_expected()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(500, [1, 4, 4]);
        var covariance = Covariance(train);
        var ridge = 0.5 * covariance.trace() / 16; // regularization × mean eigenvalue

        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions { LayerNorm = false, Regularization = 0.5 });

        // cov(z) = W Σ W with W = (Σ + ridge·I)^(-1/2), all sharing eigenvectors: Σ (Σ + ridge·I)^(-1).
        var expected = covariance.matmul(linalg.inv(covariance + ridge * eye(16, dtype: ScalarType.Float64)));
        Covariance(transform.Forward(train)).allclose(expected, rtol: 0, atol: 1e-9).Should().BeTrue();
    }

    [Fact]
    public void Inverse_recovers_the_images_without_layer_norm()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(200, [3, 4, 4]);
        var test = CorrelatedImages(7, [3, 4, 4], seed: 2);

        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions { LayerNorm = false });

        transform.Inverse(transform.Forward(train)).allclose(train, rtol: 0, atol: 1e-5).Should().BeTrue();
        transform.Inverse(transform.Forward(test)).allclose(test, rtol: 0, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Test_images_are_transformed_with_the_train_statistics()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(300, [1, 3, 3]);
        var test = CorrelatedImages(20, [1, 3, 3], seed: 3) * 2 + 1;

        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions { LayerNorm = false, Regularization = 0.1 });

        // Independently: W from the eigendecomposition of the train covariance, μ from the train mean.
        var covariance = Covariance(train);
        var (s, u) = linalg.eigh(covariance);
        var w = (u * (s + 0.1 * s.mean()).rsqrt()).matmul(u.T);
        var mean = train.reshape(300, -1).mean([0L]);
        var expected = (test.reshape(20, -1) - mean).matmul(w).reshape(test.shape);

        transform.Forward(test).allclose(expected, rtol: 0, atol: 1e-9).Should().BeTrue();
        // Each image on its own: nothing is fitted on the data being transformed.
        transform.Forward(test[..1]).allclose(expected[..1], rtol: 0, atol: 1e-9).Should().BeTrue();
    }

    [Fact]
    public void Layer_norm_makes_the_transform_blind_to_per_image_brightness_and_contrast()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(100, [3, 2, 2]);
        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions());
        var test = CorrelatedImages(5, [3, 2, 2], seed: 4);

        transform.Forward(test * 3 + 0.7).allclose(transform.Forward(test), rtol: 0, atol: 1e-9).Should().BeTrue();

        // Inverse cannot restore each image's own mean and norm: it returns a displayable image in [0, 1].
        var shown = transform.Inverse(transform.Forward(test)).reshape(5, -1);
        shown.amin([1L]).data<double>().ToArray().Should().AllSatisfy(v => v.Should().BeApproximately(0, 1e-12));
        shown.amax([1L]).data<double>().ToArray().Should().AllSatisfy(v => v.Should().BeApproximately(1, 1e-12));
    }

    [Fact]
    public void Fewer_images_than_features_warns_and_stays_finite()
    {
        using var scope = NewDisposeScope();
        var train = rand([5, 3, 4, 4], dtype: ScalarType.Float32);
        var logger = new RecordingLogger();

        var transform = new ZcaPreprocessor().Fit(Run(logger), train, new ZcaOptions());
        var z = transform.Forward(train);

        logger.Warnings.Should().ContainSingle().Which.Should().Contain("5 images").And.Contain("48 features");
        z.dtype.Should().Be(ScalarType.Float32);
        z.isfinite().all().item<bool>().Should().BeTrue();
        transform.Inverse(z).isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Large_inputs_are_transformed_in_chunks_with_the_same_result()
    {
        using var scope = NewDisposeScope();
        var train = CorrelatedImages(5000, [1, 2, 2]);
        var transform = new ZcaPreprocessor().Fit(IdxTestFiles.Run(), train, new ZcaOptions { LayerNorm = false });

        var whole = transform.Forward(train);
        var parts = cat([transform.Forward(train[..2500]), transform.Forward(train[2500..])], 0);

        whole.allclose(parts, rtol: 0, atol: 1e-12).Should().BeTrue();
        transform.Inverse(whole).allclose(train, rtol: 0, atol: 1e-9).Should().BeTrue();
    }
}
