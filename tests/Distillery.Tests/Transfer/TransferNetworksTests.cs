using Distillery.Abstractions.Architectures;
using Distillery.Evaluation.Transfer;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

[Collection(TransferCollection.Name)]
public sealed class TransferNetworksTests
{
    [Theory]
    [InlineData(TransferNetwork.Fc, 1, 28, 28)]
    [InlineData(TransferNetwork.Convnet, 1, 28, 28)]
    [InlineData(TransferNetwork.Fc, 3, 32, 32)]
    [InlineData(TransferNetwork.Convnet, 3, 32, 32)]
    public void Default_networks_map_images_to_class_scores(TransferNetwork kind, long channels, long height, long width)
    {
        var options = new TransferOptions { Network = kind };
        using var scope = NewDisposeScope();
        using var network = TransferNetworks.Create(options, [1, channels, height, width], 10, generator: null);
        var output = network.call(randn(2, channels, height, width));
        output.shape.Should().Equal(2, 10);
    }

    [Fact]
    public void Defaults_follow_the_network()
    {
        new TransferOptions { Network = TransferNetwork.Fc }.ResolvedWidth().Should().Be(1024);
        new TransferOptions { Network = TransferNetwork.Fc }.ResolvedDepth().Should().Be(1);
        new TransferOptions().ResolvedWidth().Should().Be(128);
        new TransferOptions().ResolvedDepth().Should().Be(3);
        new TransferOptions().ResolvedBatchSize(100).Should().Be(100);
        new TransferOptions().ResolvedBatchSize(1000).Should().Be(256);
    }

    [Fact]
    public void Convnet_has_the_reference_layer_sequence()
    {
        using var network = TransferNetworks.Create(new TransferOptions { Width = 128, Depth = 3, Norm = TransferNorm.Instance }, [1, 1, 28, 28], 10, generator: null);
        network.named_children().Select(c => c.name).Should().Equal(
            "conv0", "norm0", "relu0", "pool0", "conv1", "norm1", "relu1", "pool1",
            "conv2", "norm2", "relu2", "pool2", "flatten", "readout");
        // 28 → 14 → 7 → 3 after three 2×2 pools: the readout sees 128 × 3 × 3 features.
        network.named_parameters().Single(p => p.name == "readout.weight").parameter.shape.Should().Equal(10, 128 * 3 * 3);
    }

    [Fact]
    public void Init_is_a_function_of_the_generator_with_default_bounds()
    {
        float[] Weights(long seed)
        {
            using var generator = new Generator(0, CPU).manual_seed(seed);
            using var network = TransferNetworks.Create(new TransferOptions { Width = 4, Depth = 2, Norm = TransferNorm.Instance }, [1, 1, 8, 8], 3, generator: null);
            ParameterInit.Apply(network, generator);
            return network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
        }
        Weights(42).Should().Equal(Weights(42));
        Weights(43).Should().NotEqual(Weights(42));

        using var generator = new Generator(0, CPU).manual_seed(1);
        using var convnet = TransferNetworks.Create(new TransferOptions { Width = 4, Depth = 1, Norm = TransferNorm.Instance }, [1, 1, 8, 8], 3, generator: null);
        ParameterInit.Apply(convnet, generator);
        var parameters = convnet.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().data<float>().ToArray());
        parameters["conv0.weight"].Should().OnlyContain(w => Math.Abs(w) <= 1 / 3.0);          // fan_in 1·3·3
        parameters["readout.weight"].Should().OnlyContain(w => Math.Abs(w) <= 1 / Math.Sqrt(64)); // fan_in 4·4·4
        parameters["norm0.weight"].Should().OnlyContain(w => w == 1);
        parameters["norm0.bias"].Should().OnlyContain(w => w == 0);
    }
}
