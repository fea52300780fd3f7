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

    /// <summary>
    /// The networks built from descriptions are, module for module, the ones the transfer evaluation built by hand before
    /// descriptions existed (same names, types, shapes and order), so a seed draws the same initial parameters, bit for
    /// bit, and leaves the generator in the same state.
    /// </summary>
    [Theory]
    [InlineData(TransferNetwork.Convnet, TransferNorm.Instance, Parameterization.Standard)]
    [InlineData(TransferNetwork.Convnet, TransferNorm.None, Parameterization.Ntk)]
    [InlineData(TransferNetwork.Fc, TransferNorm.Instance, Parameterization.Standard)]
    [InlineData(TransferNetwork.Fc, TransferNorm.None, Parameterization.Ntk)]
    public void A_seed_draws_the_initialisation_of_the_hand_built_network(TransferNetwork kind, TransferNorm norm, Parameterization parameterization)
    {
        const double wStd = 1.5, bStd = 0.3;
        var ntk = parameterization == Parameterization.Ntk;
        nn.Module<Tensor, Tensor> Dense(long inputs, long outputs) => ntk ? new NtkDense(inputs, outputs, wStd, bStd) : nn.Linear(inputs, outputs);
        nn.Module<Tensor, Tensor> Conv(long inputs, long outputs) => ntk ? new NtkConv2d(inputs, outputs, 3, wStd, bStd) : nn.Conv2d(inputs, outputs, kernel_size: 3, padding: 1);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        if (kind == TransferNetwork.Fc)
            modules.AddRange([("flatten", nn.Flatten()), ("dense0", Dense(64, 4)), ("relu0", nn.ReLU()), ("dense1", Dense(4, 4)), ("relu1", nn.ReLU()), ("readout", Dense(4, 3))]);
        else
        {
            for (var (i, inputs) = (0, 1L); i < 2; (i, inputs) = (i + 1, 4))
            {
                modules.Add(($"conv{i}", Conv(inputs, 4)));
                if (norm == TransferNorm.Instance) modules.Add(($"norm{i}", nn.InstanceNorm2d(4, affine: true)));
                modules.AddRange([($"relu{i}", nn.ReLU()), ($"pool{i}", nn.AvgPool2d(2))]);
            }
            modules.AddRange([("flatten", nn.Flatten()), ("readout", Dense(4 * 2 * 2, 3))]);
        }
        var globalState = random.get_rng_state(); // the torch constructors draw from the global generator
        using var reference = nn.Sequential(modules);
        random.set_rng_state(globalState);
        using var referenceGenerator = new Generator(0, CPU).manual_seed(9);
        ParameterInit.Apply(reference, referenceGenerator);

        var options = new TransferOptions { Network = kind, Norm = norm, Parameterization = parameterization, Width = 4, Depth = 2, WStd = wStd, BStd = bStd };
        using var generator = new Generator(0, CPU).manual_seed(9);
        using var network = TransferNetworks.Create(options, [1, 1, 8, 8], 3, generator);

        network.named_modules().Select(m => (m.name, m.module.GetType())).Should().Equal(reference.named_modules().Select(m => (m.name, m.module.GetType())));
        var (built, expected) = (network.named_parameters().ToArray(), reference.named_parameters().ToArray());
        built.Select(p => p.name).Should().Equal(expected.Select(p => p.name));
        for (var i = 0; i < built.Length; i++)
            built[i].parameter.data<float>().ToArray().Should().Equal(expected[i].parameter.data<float>().ToArray(), built[i].name);
        using var next = randn([4], generator: generator);
        using var referenceNext = randn([4], generator: referenceGenerator);
        next.data<float>().ToArray().Should().Equal(referenceNext.data<float>().ToArray(), "both drew the same numbers");
    }
}
