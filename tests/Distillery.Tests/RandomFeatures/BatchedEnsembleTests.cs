using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.RandomFeatures;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>The stacked ensemble (one draw held as stacked layer tensors) computes what the network-by-network code did, from the same seed.</summary>
public sealed class BatchedEnsembleTests
{
    private static RunContext Run32() => new() { Device = CPU, DType = float32, Seed = 11, Logger = NullLogger.Instance };

    [Theory]
    [InlineData(1, 3, 2, 16)]  // grey images, 3 networks, depth 2
    [InlineData(3, 4, 3, 16)]  // RGB, 4 networks, depth 3
    [InlineData(1, 2, 0, 8)]   // depth 0: the images themselves, once per network
    public void Batched_features_equal_the_network_by_network_ones_from_the_same_seed(int channels, int models, int depth, int size)
    {
        using var scope = NewDisposeScope();
        var options = new ConvNetRandomFeaturesOptions { Models = models, Width = 16, Depth = depth, BlockSize = 5 };
        var images = RandomFeatureTestSupport.RandomImages(3, 7, channels, size).to(float32);
        var kernel = (IFeatureMapKernel)new ConvNetRandomFeaturesKernel().Create(Run32(), options);

        var batched = kernel.Features(images);
        var reference = NetworkByNetworkReference.InitialDrawFeatures(Run32(), options, images);

        batched.shape.Should().Equal(reference.shape);
        var largest = reference.abs().max().item<float>();
        batched.sub(reference).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f * Math.Max(1f, largest),
            "the same seed must give the same networks as the network-by-network order");
    }

    [Fact]
    public void Blocks_capped_by_activation_size_give_the_network_by_network_features()
    {
        using var scope = NewDisposeScope();
        // Width 64 at 28×28: 64·784 floats (196 KiB) per image, so blocks of ⌊32 MiB / 196 KiB⌋ = 167 images, not 500.
        var options = new ConvNetRandomFeaturesOptions { Models = 1, Width = 64, Depth = 2, BlockSize = 500 };
        options.Describe().LargestActivation(FeatureShape.Image(1, 28, 28)).Should().Be(64 * 28 * 28);
        var images = RandomFeatureTestSupport.RandomImages(5, 400, 1, 28).to(float32);
        var kernel = (IFeatureMapKernel)new ConvNetRandomFeaturesKernel().Create(Run32(), options);

        var capped = kernel.Features(images);
        var reference = NetworkByNetworkReference.InitialDrawFeatures(Run32(), options, images);

        var largest = reference.abs().max().item<float>();
        capped.sub(reference).abs().max().item<float>().Should().BeLessThanOrEqualTo(1e-6f * Math.Max(1f, largest));
    }

    [Fact]
    public void Compute_is_the_feature_products_plus_the_bias_variance()
    {
        using var scope = NewDisposeScope();
        var options = RandomFeatureTestSupport.Small(RedrawMode.Fixed);
        var kernel = (IFeatureMapKernel)RandomFeatureTestSupport.Create(options);
        var a = RandomFeatureTestSupport.RandomImages(4, 5, 1, 8);
        var b = RandomFeatureTestSupport.RandomImages(5, 7, 1, 8);
        var fromFeatures = kernel.FromFeatures(kernel.Features(a), kernel.Features(b));
        kernel.Compute(a, b).allclose(fromFeatures, rtol: 1e-12, atol: 1e-12).Should().BeTrue();
        kernel.Compute(b, b).allclose(kernel.FromFeatures(kernel.Features(b), kernel.Features(b)), rtol: 1e-12, atol: 1e-12).Should().BeTrue();
    }
}
