using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using Distillery.Evaluation.Transfer;
using Distillery.Kernels;
using Distillery.Kernels.Layers;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.Methods.MethodTestSupport;
using static Distillery.Tests.Transfer.TransferTestData;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

/// <summary>
/// The finite-width recipe of the published KIP/RFAD transfer figures (DESIGN §4): centring, label scaling and an
/// NTK-parameterised network whose NNGP at init is the <c>convnet</c> kernel's.
/// </summary>
[Collection(TransferCollection.Name)]
public sealed class KernelRegimeRecipeTests(ITestOutputHelper output)
{
    private const double WStd = 1.5, BStd = 0.3; // not the defaults, so a mixed-up constant would show

    private static nn.Module<Tensor, Tensor> NtkConvNet(int width, int depth, long seed, ScalarType dtype = ScalarType.Float64)
    {
        using var generator = new Generator(0, CPU).manual_seed(seed);
        return FiniteNetwork.Create(Description(width, depth), FeatureShape.Image(1, 8, 8), Parameterization.Ntk, generator).to(dtype);
    }

    /// <summary>The <c>convnet</c> kernel's network with the test's wStd and bStd and three outputs.</summary>
    private static Architecture Description(int width, int depth) =>
        Architecture.ConvNet(depth, width, outputs: 3, WStd, BStd, pooling: new Layer.AvgPool(2), readout: new Layer.Flatten());

    private static CentredNetwork Centred(nn.Module<Tensor, Tensor> network, int width, int depth) =>
        new(network, FiniteNetwork.Create(Description(width, depth), FeatureShape.Image(1, 8, 8), Parameterization.Ntk).to(ScalarType.Float64));

    [Fact]
    public void A_centred_network_outputs_exactly_zero_at_init_and_has_the_uncentred_gradient()
    {
        using var scope = NewDisposeScope();
        var images = RandomTensor(new Random(1), ScalarType.Float64, 4, 1, 8, 8);
        var weights = RandomTensor(new Random(2), ScalarType.Float64, 4, 3); // a fixed linear functional of the outputs
        var plain = NtkConvNet(width: 8, depth: 2, seed: 5);
        var centred = Centred(NtkConvNet(width: 8, depth: 2, seed: 5), width: 8, depth: 2);

        using (no_grad())
            Values(centred.call(images)).Should().OnlyContain(v => v == 0);

        Tensor[] Gradient(nn.Module<Tensor, Tensor> network, IEnumerable<TorchSharp.Modules.Parameter> parameters)
        {
            using var grad = enable_grad();
            var trained = parameters.ToArray();
            network.call(images).mul(weights).sum().backward();
            return trained.Select(p => p.grad!.clone()).ToArray();
        }
        var expected = Gradient(plain, plain.parameters());
        var actual = Gradient(centred, centred.TrainableParameters);

        actual.Should().HaveCount(expected.Length);
        for (var i = 0; i < expected.Length; i++) Values(actual[i]).Should().Equal(Values(expected[i]));
        centred.InitialParameters.Should().OnlyContain(p => !p.requires_grad, "θ₀ is frozen");
        centred.parameters().Count(p => p.requires_grad).Should().Be(expected.Length, "only θ is trained");
    }

    [Fact]
    public void A_trained_centred_network_is_the_network_minus_its_initial_function()
    {
        using var scope = NewDisposeScope();
        var images = RandomTensor(new Random(3), ScalarType.Float64, 2, 1, 8, 8);
        var initial = NtkConvNet(width: 4, depth: 1, seed: 9);
        var centred = Centred(NtkConvNet(width: 4, depth: 1, seed: 9), width: 4, depth: 1);
        using (no_grad())
            foreach (var p in centred.TrainableParameters) p.add_(ones_like(p), HeldScalars.One); // stands in for training

        using (no_grad())
        {
            var network = (nn.Module<Tensor, Tensor>)centred.named_children().Single(c => c.name == "network").module;
            var expected = network.call(images).sub(initial.call(images));
            Values(centred.call(images)).Should().Equal(Values(expected));
            Values(centred.call(images)).Should().Contain(v => v != 0);
        }
    }

    [Fact]
    public void Label_scaling_fits_c_times_the_targets_with_the_loss_in_label_units()
    {
        using var scope = NewDisposeScope();
        // Two support rows of two classes; c = 2. Row 1: f = (1, 1), y = (0.5, −0.5): c·y = (1, −1), ‖f − c·y‖² = 4.
        // Row 0: f = (2, 0), y = (1, 0): c·y = (2, 0), a perfect fit. Loss = ½ · mean(0, 4) / c² = ½ · 2 / 4 = 0.25.
        var targets = tensor(new double[] { 1, 0, 0.5, -0.5 }).reshape(2, 2);
        var outputs = tensor(new double[] { 2, 0, 1, 1 }).reshape(2, 2).requires_grad_();
        using var scaled = new TrainingObjective(TransferLoss.Mse, CrossEntropyTargets.Argmax, targets, labelScale: 2);
        using var plain = new TrainingObjective(TransferLoss.Mse, CrossEntropyTargets.Argmax, targets);

        var loss = scaled.Compute(outputs, null);
        loss.ToDouble().Should().Be(0.25);
        loss.backward(); // ∂/∂f = (f − c·y) / (batch · c²): zero on the fitted row
        Values(outputs.grad!).Should().Equal(0, 0, 0, 0.25);
        // Only the selected rows; and c = 1 is the plain MSE: ½ · ‖(1, 1) − (0.5, −0.5)‖² = ½ · 2.5.
        scaled.Compute(outputs.narrow(0, 1, 1), tensor(new long[] { 1 })).ToDouble().Should().Be(0.5);
        plain.Compute(outputs.narrow(0, 1, 1), tensor(new long[] { 1 })).ToDouble().Should().Be(1.25);
    }

    [Fact]
    public void Label_scaling_is_refused_with_cross_entropy()
    {
        new TransferOptions { Loss = TransferLoss.CrossEntropy, LabelScale = 8 }.Validate()
            .Should().ContainSingle().Which.Option.Should().Be(nameof(TransferOptions.LabelScale));
        new TransferOptions { LabelScale = 8 }.Validate().Should().BeEmpty();
        var act = () => new TrainingObjective(TransferLoss.CrossEntropy, CrossEntropyTargets.Argmax, zeros(2, 2), labelScale: 8);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_ntk_convnet_has_the_kernels_layers_and_standard_normal_parameters()
    {
        using var network = NtkConvNet(width: 64, depth: 3, seed: 2);
        network.named_children().Select(c => c.name).Should().Equal(
            "conv0", "relu0", "pool0", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "readout");
        var conv1 = network.named_children().Single(c => c.name == "conv1").module.Should().BeOfType<NtkConv2d>().Subject;
        conv1.FanIn.Should().Be(64 * 9);
        var weights = Values(conv1.Weight); // 64·64·9 draws ~ N(0, 1)
        weights.Average().Should().BeApproximately(0, 0.02);
        Math.Sqrt(weights.Average(w => w * w)).Should().BeApproximately(1, 0.02);
        network.named_parameters().Single(p => p.name == "readout.weight").parameter.shape.Should().Equal(3, 64 * 1 * 1); // 8 → 4 → 2 → 1
    }

    /// <summary>
    /// The NNGP of the NTK ConvNet at init, estimated from its last hidden layer φ (F features) over independent inits —
    /// K̂(x, x′) = W²·φ(x)·φ(x′)/F + b², the readout's covariance given φ — against the exact <c>convnet</c> kernel's NNGP
    /// with the same wStd, bStd, depth, pooling and readout. Each entry must lie within 4 standard errors of the exact
    /// value plus 2% (a width-256 network's covariance is biased by O(1/width) beyond the first block).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_ntk_convnets_empirical_nngp_at_init_approaches_the_convnet_kernels(int depth)
    {
        const int width = 256, inits = 150;
        using var scope = NewDisposeScope();
        var images = RandomTensor(new Random(4), ScalarType.Float64, 3, 1, 8, 8);
        var exact = Matrix(ConvNetKernel.Build(new ConvNetKernelOptions
        {
            Depth = depth, WStd = WStd, BStd = BStd, Output = KernelOutput.Nngp,
        }).Compute(images, images));

        var samples = new double[inits][,];
        using (no_grad())
            for (var init = 0; init < inits; init++)
            {
                using var initScope = NewDisposeScope();
                var network = NtkConvNet(width, depth, seed: 100 + init);
                var features = network.named_children().Where(c => c.name != "readout")
                    .Aggregate(images, (x, layer) => ((nn.Module<Tensor, Tensor>)layer.module).call(x));
                samples[init] = new double[3, 3];
                var gram = Matrix(features.matmul(features.t()));
                for (var i = 0; i < 3; i++)
                    for (var j = 0; j < 3; j++)
                        samples[init][i, j] = WStd * WStd * gram[i, j] / features.shape[1] + BStd * BStd;
            }

        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
            {
                var values = samples.Select(s => s[i, j]).ToArray();
                var mean = values.Average();
                var standardError = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (inits - 1) / inits);
                output.WriteLine($"depth {depth} ({i},{j}): exact {exact[i, j]:F5}, empirical {mean:F5} ± {standardError:F5} " +
                                 $"(relative error {(mean - exact[i, j]) / exact[i, j]:P2})");
                standardError.Should().BeLessThan(0.02 * Math.Abs(exact[i, j]), "enough inits for the check to mean something");
                mean.Should().BeApproximately(exact[i, j], 4 * standardError + 0.02 * Math.Abs(exact[i, j]), $"entry ({i},{j})");
            }
    }

    /// <summary>The whole recipe, small: NTK ConvNet without norm, centred, labels × 8, on three separable patterns.</summary>
    private static TransferOptions Recipe(int seeds = 1) => new()
    {
        Network = TransferNetwork.Convnet, Norm = TransferNorm.None, Parameterization = Parameterization.Ntk,
        Width = 16, Depth = 2, Centering = true, LabelScale = 8, Optimizer = TransferOptimizer.Adam, LearningRate = 0.01,
        Steps = 100, Seeds = seeds,
    };

    private static readonly Lazy<(Abstractions.Data.SupportSet Support, Abstractions.Data.ImageSet Test)> Data =
        new(() => (Support(Patterns(perClass: 4, seed: 1)), Patterns(perClass: 20, seed: 2)));

    [Fact]
    public void The_recipe_learns_separable_patterns_and_the_same_seed_gives_the_same_figures()
    {
        var (support, test) = Data.Value;
        var first = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 11), Recipe(seeds: 2));
        var again = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 11), Recipe(seeds: 2));
        var other = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 12), Recipe(seeds: 2));
        output.WriteLine(string.Join(", ", first.Select(f => $"{f.Key} {f.Value:G4}")));

        first["testAccuracy"].Should().BeGreaterThan(0.9);
        again.Should().Equal(first);
        other["trainLoss"].Should().NotBe(first["trainLoss"]);
    }

    [Theory]
    [InlineData(TransferOptimizer.Sgd, TransferNetwork.Fc)]
    [InlineData(TransferOptimizer.Adam, TransferNetwork.Fc)]
    [InlineData(TransferOptimizer.Sgd, TransferNetwork.Convnet)]
    public void Centring_and_ntk_layers_train_with_either_optimiser_and_network(TransferOptimizer optimizer, TransferNetwork network)
    {
        var (support, test) = Data.Value;
        var options = Recipe();
        options.Optimizer = optimizer;
        options.Network = network;
        options.Width = network == TransferNetwork.Fc ? 64 : 16;
        options.LearningRate = optimizer == TransferOptimizer.Sgd ? 0.5 : 0.01;
        options.Depth = network == TransferNetwork.Fc ? 1 : 2;
        var figures = new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);
        output.WriteLine(string.Join(", ", figures.Select(f => $"{f.Key} {f.Value:G4}")));
        figures["testAccuracy"].Should().BeGreaterThan(0.9);
    }
}
