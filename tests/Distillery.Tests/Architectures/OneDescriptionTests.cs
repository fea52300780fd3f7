using Distillery.Abstractions.Architectures;
using Distillery.Kernels;
using Distillery.Kernels.Layers;
using Distillery.Kernels.RandomFeatures;
using FluentAssertions;
using TorchSharp;
using TorchSharp.Modules;
using Flatten = Distillery.Kernels.Layers.Flatten;
using TorchFlatten = TorchSharp.Modules.Flatten;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Architectures;

/// <summary>
/// Issue 10, part 4: from ONE network description the exact infinite-width kernel, its random-feature estimate and the
/// finite network are derived, and they agree — numerically (the estimate converges to the kernel like 1/√M, the finite
/// network's NNGP at init is the kernel's) and structurally (layer by layer; the random networks are the NTK network's
/// initialisations).
/// </summary>
[Collection(Transfer.TransferCollection.Name)] // one torch thread: these are many tiny networks
public sealed class OneDescriptionTests(ITestOutputHelper output)
{
    private const double WStd = 1.5, BStd = 0.3; // not the defaults, so a mixed-up constant would show

    /// <summary>[Conv3×3(width) → Relu → AvgPool 2×2] × depth → Flatten → Dense(outputs): 6×6 → 3×3 → 1×1.</summary>
    private static Architecture ConvNet(int depth, int width, int outputs = 1) =>
        Architecture.ConvNet(depth, width, outputs, WStd, BStd, pooling: new Layer.AvgPool(2), readout: new Layer.Flatten());

    /// <summary>Four 1×6×6 images in float64, from a fixed seed.</summary>
    private static Tensor Images()
    {
        using var generator = new Generator(0, CPU).manual_seed(21);
        return randn([4, 1, 6, 6], dtype: float64, generator: generator);
    }

    private static Tensor ExactNngp(Architecture architecture, Tensor images) =>
        ArchitectureKernel.Create(architecture, KernelOutput.Nngp, new PairsPerBlock(16)).Compute(images, images);

    private static RandomFeatureKernel RandomFeatures(Architecture architecture, int models, long drawSeed)
    {
        using var generator = new Generator(0, CPU).manual_seed(drawSeed);
        return new RandomFeatureKernel(architecture, new RandomFeatureSampling(models, models, RedrawMode.Fixed, FeatureCacheStorage.Full, 100),
                                       generator, CPU, ScalarType.Float64);
    }

    private static double RelativeFrobenius(Tensor estimate, Tensor exact) =>
        estimate.sub(exact).norm().item<double>() / exact.norm().item<double>();

    /// <summary>
    /// One conv block, whose random features are unbiased at any width, so the mean squared error of an M-network
    /// estimate is exactly that of one network divided by M: the RMS error over independent draws must fall like
    /// M^(−1/2). The slope of log RMS against log M over M = 1 … 64 (24 draws each) is checked to ±0.15 — an estimate
    /// that ignored M (slope 0) or returned the exact kernel (no error) fails — and the largest ensemble must be close.
    /// </summary>
    [Fact]
    public void The_random_feature_estimate_converges_to_the_exact_kernel_like_one_over_root_M()
    {
        using var scope = NewDisposeScope();
        var architecture = ConvNet(depth: 1, width: 8);
        var images = Images();
        var exact = ExactNngp(architecture, images);
        int[] models = [1, 4, 16, 64];
        const int draws = 24;
        var rms = models.Select(m => Math.Sqrt(Enumerable.Range(0, draws).Average(draw =>
        {
            using var drawScope = NewDisposeScope();
            using var kernel = RandomFeatures(architecture, m, drawSeed: 1000 * m + draw);
            return Math.Pow(RelativeFrobenius(kernel.Compute(images, images), exact), 2);
        }))).ToArray();
        for (var i = 0; i < models.Length; i++) output.WriteLine($"M = {models[i]}: RMS relative error {rms[i]:P2}");

        var logM = models.Select(m => Math.Log(m)).ToArray();
        var logRms = rms.Select(r => Math.Log(r)).ToArray();
        var (meanX, meanY) = (logM.Average(), logRms.Average());
        var slope = logM.Zip(logRms).Sum(p => (p.First - meanX) * (p.Second - meanY)) / logM.Sum(x => (x - meanX) * (x - meanX));
        output.WriteLine($"slope of log RMS against log M: {slope:F3} (1/√M: −0.5)");

        slope.Should().BeInRange(-0.65, -0.35);
        rms[^1].Should().BeLessThan(0.06).And.BeGreaterThan(0);
    }

    /// <summary>
    /// The NTK-parameterised finite network of the description (32 outputs), over 200 initialisations: the empirical
    /// covariance of its outputs at init, mean over inits and outputs of f(x)·f(x′), is the exact NNGP. Each entry lies
    /// within 4 standard errors plus a width bias (none for one block, whose outputs are exactly Gaussian given the
    /// first layer; O(1/width) beyond it) of the exact value, and the standard errors are small enough to mean something.
    /// </summary>
    [Theory]
    [InlineData(1, 16, 0.0)]
    [InlineData(2, 64, 0.03)]
    public void The_finite_networks_nngp_at_init_is_the_exact_kernel(int depth, int width, double widthBias)
    {
        const int inits = 200, outputs = 32;
        using var scope = NewDisposeScope();
        var images = Images();
        var exact = Matrix(ExactNngp(ConvNet(depth, width), images));
        var architecture = ConvNet(depth, width, outputs);
        var samples = new double[inits][,];
        using (no_grad())
            for (var init = 0; init < inits; init++)
            {
                using var initScope = NewDisposeScope();
                using var generator = new Generator(0, CPU).manual_seed(500 + init);
                using var network = FiniteNetwork.Create(architecture, FeatureShape.Image(1, 6, 6), Parameterization.Ntk, generator).to(ScalarType.Float64);
                var f = network.call(images); // [4, outputs]
                samples[init] = Matrix(f.matmul(f.t()).div(outputs));
            }

        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
            {
                var values = samples.Select(s => s[i, j]).ToArray();
                var mean = values.Average();
                var standardError = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (inits - 1) / inits);
                output.WriteLine($"depth {depth} ({i},{j}): exact {exact[i, j]:F5}, finite {mean:F5} ± {standardError:F5}");
                standardError.Should().BeLessThan(0.05 * Math.Abs(exact[i, j]), "enough initialisations for the check to mean something");
                mean.Should().BeApproximately(exact[i, j], 4 * standardError + widthBias * Math.Abs(exact[i, j]), $"entry ({i},{j})");
            }
    }

    /// <summary>
    /// Deeper, the estimate of many wide networks meets the exact kernel too, within the O(1/width) bias of a finite
    /// second layer and the draw's noise; and it tells its own description from a neighbour's (the same layers with
    /// another wStd), whose exact kernel lies several tolerances away.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Deeper_and_global_pooling_descriptions_agree_with_the_exact_kernel(bool pooled)
    {
        const double tolerance = 0.03;
        using var scope = NewDisposeScope();
        Architecture Description(double wStd) => Architecture.ConvNet(2, 128, 1, wStd, BStd, pooling: pooled ? new Layer.AvgPool(2) : null,
                                                                      readout: pooled ? new Layer.Flatten() : new Layer.GlobalAvgPool());
        var architecture = Description(WStd);
        var images = Images();
        using var kernel = RandomFeatures(architecture, models: 32, drawSeed: 3);
        var estimate = kernel.Compute(images, images);
        var error = RelativeFrobenius(estimate, ExactNngp(architecture, images));
        var neighbour = RelativeFrobenius(estimate, ExactNngp(Description(1.3), images));
        output.WriteLine($"{architecture}: relative error {error:P2}; against wStd 1.3's kernel {neighbour:P2}");
        error.Should().BeLessThan(tolerance);
        neighbour.Should().BeGreaterThan(3 * tolerance);
    }

    /// <summary>
    /// The random networks of the estimate are the finite NTK network's initialisations: a network drawn from the same
    /// seed (ω, β ~ N(0, 1) in the same order, weight then bias, layer by layer) computes, up to its readout, exactly the
    /// features Φ = W_std·φ/√F of the one-network estimate.
    /// </summary>
    [Fact]
    public void The_random_networks_are_the_finite_ntk_networks_initialisations()
    {
        using var scope = NewDisposeScope();
        var architecture = ConvNet(depth: 2, width: 8, outputs: 3);
        var images = Images();
        using var kernel = RandomFeatures(architecture, models: 1, drawSeed: 77);
        var features = kernel.Features(images);

        using var initial = new Generator(0, CPU).manual_seed(77);
        var networkSeed = randint(long.MaxValue, new long[] { 1 }, dtype: int64, generator: initial).item<long>(); // the kernel's draw seed
        using var network = FiniteNetwork.Create(architecture, FeatureShape.Image(1, 6, 6), Parameterization.Ntk).to(ScalarType.Float64);
        using (var generator = new Generator(0, CPU).manual_seed(networkSeed))
            ParameterInit.Apply(network, generator);
        using var noGrad = no_grad();
        var hidden = network.named_children().Where(c => c.name != "readout")
            .Aggregate(images, (x, layer) => ((nn.Module<Tensor, Tensor>)layer.module).call(x));
        var expected = hidden.mul(WStd / Math.Sqrt(hidden.shape[1]));

        features.shape.Should().Equal(expected.shape);
        MaxRelativeError(features, expected, floor: 1e-12).Should().BeLessThan(1e-12);
    }

    /// <summary>Each derivation has one layer per description layer, in order, with the description's parameters.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_three_derivations_follow_the_description_layer_by_layer(bool pooled)
    {
        var architecture = Architecture.ConvNet(2, 8, 3, WStd, BStd, pooling: pooled ? new Layer.AvgPool(2) : null,
                                                readout: pooled ? new Layer.Flatten() : new Layer.GlobalAvgPool());
        var description = architecture.Layers;
        var shapes = architecture.Shapes(FeatureShape.Image(1, 6, 6));

        // (1) The exact kernel: one kernel layer per description layer.
        var kernelLayers = ArchitectureKernel.Layers(architecture);
        kernelLayers.Should().HaveCount(description.Count);
        for (var i = 0; i < description.Count; i++)
        {
            var matches = (description[i], kernelLayers[i]) switch
            {
                (Layer.Conv d, Conv k) => k.Size == d.FilterSize && k.WeightStd == d.WeightStd && k.BiasStd == d.BiasStd,
                (Layer.Relu, Relu) => true,
                (Layer.AvgPool d, AvgPool k) => k.Window == d.Window && k.Stride == d.Stride,
                (Layer.Flatten, Flatten) => true,
                (Layer.GlobalAvgPool, GlobalAvgPool) => true,
                (Layer.Dense d, Dense k) => k.WeightStd == d.WeightStd && k.BiasStd == d.BiasStd,
                _ => false,
            };
            matches.Should().BeTrue($"kernel layer {i} ({kernelLayers[i]}) must be description layer {i} ({description[i]})");
        }

        // (2) The finite network: one module per description layer, with the description's widths and scales.
        using var network = FiniteNetwork.Create(architecture, FeatureShape.Image(1, 6, 6), Parameterization.Ntk);
        var modules = network.named_children().ToArray();
        modules.Should().HaveCount(description.Count);
        for (var i = 0; i < description.Count; i++)
        {
            var module = modules[i].module;
            var matches = (description[i], module) switch
            {
                (Layer.Conv d, NtkConv2d m) => m.Weight.shape.SequenceEqual([d.Channels, shapes[i].Channels, d.FilterSize, d.FilterSize])
                                               && m.FanIn == shapes[i].Channels * d.FilterSize * d.FilterSize,
                (Layer.Relu, ReLU) => true,
                (Layer.AvgPool, AvgPool2d) => true,
                (Layer.Flatten, TorchFlatten) => true,
                (Layer.GlobalAvgPool, GlobalAvgPool2d) => true,
                (Layer.Dense d, NtkDense m) => m.Weight.shape.SequenceEqual([d.Outputs, shapes[i].Size]),
                _ => false,
            };
            matches.Should().BeTrue($"module {i} ({modules[i].name}, {module.GetType().Name}) must be description layer {i} ({description[i]})");
        }
        modules[^1].name.Should().Be("readout");
        using (no_grad())
            network.call(zeros(2, 1, 6, 6)).shape.Should().Equal(2, 3);

        // (3) The random features: the same conv blocks, pools and readout.
        var random = RandomFeatureNetwork.From(architecture);
        var blocks = description.Where(l => l is Layer.Conv).Cast<Layer.Conv>().ToArray();
        random.Blocks.Select(b => b.Conv).Should().Equal(blocks);
        random.Blocks.Select(b => b.Pool).Should().OnlyContain(p => pooled ? p == new Layer.AvgPool(2) : p == null);
        random.GlobalPool.Should().Be(!pooled);
        random.Readout.Should().Be(description[^1]);
    }

    [Fact]
    public void Instance_norm_builds_a_finite_network_and_is_refused_by_the_kernel_and_the_random_features()
    {
        var architecture = Architecture.ConvNet(1, 4, 3, WStd, BStd, new Layer.AvgPool(2), new Layer.Flatten(), instanceNorm: true);
        using var network = FiniteNetwork.Create(architecture, FeatureShape.Image(1, 6, 6), Parameterization.Standard);
        network.named_children().Select(c => c.name).Should().Equal("conv0", "norm0", "relu0", "pool0", "flatten", "readout");

        FluentActions.Invoking(() => ArchitectureKernel.Create(architecture, KernelOutput.Ntk, new PairsPerBlock(4)))
            .Should().Throw<ArchitectureException>().WithMessage("layer 2 of *InstanceNorm has no infinite-width kernel*norm none*");
        FluentActions.Invoking(() => RandomFeatureNetwork.From(architecture))
            .Should().Throw<ArchitectureException>().WithMessage("layer 2 of *InstanceNorm*");
    }

    /// <summary>
    /// Serial derives the cheapest representation from the layers, whatever the caller: a fully-connected description
    /// reads images as the flat covariance x·x′/d, Flatten without pooling needs the same-pixel pairs, each pool widens
    /// the band, GlobalAvgPool needs every pair.
    /// </summary>
    [Fact]
    public void Serial_derives_the_representation_each_description_needs()
    {
        Serial Kernel(Architecture architecture) => ArchitectureKernel.Create(architecture, KernelOutput.Ntk, new PairsPerBlock(4));
        long[] images = [2, 1, 8, 8];
        KernelRepresentation Pairs(long reach) => new KernelRepresentation.PixelPairs(new PixelReach(reach, reach));

        Kernel(Architecture.FullyConnected(2, 1, 1, WStd, BStd)).InputRepresentation(images).Should().Be(KernelRepresentation.Flat);
        Kernel(Architecture.ConvNet(0, 1, 1, WStd, BStd, null, new Layer.Flatten())).InputRepresentation(images).Should().Be(KernelRepresentation.Flat);
        Kernel(Architecture.ConvNet(2, 1, 1, WStd, BStd, null, new Layer.Flatten())).InputRepresentation(images).Should().Be(Pairs(0));
        Kernel(Architecture.ConvNet(1, 1, 1, WStd, BStd, new Layer.AvgPool(2), new Layer.Flatten())).InputRepresentation(images).Should().Be(Pairs(1));
        Kernel(Architecture.ConvNet(2, 1, 1, WStd, BStd, new Layer.AvgPool(2), new Layer.Flatten())).InputRepresentation(images).Should().Be(Pairs(3));
        Kernel(Architecture.ConvNet(1, 1, 1, WStd, BStd, null, new Layer.GlobalAvgPool())).InputRepresentation(images).Should().Be(Pairs(7));

        // The flat reading of a fully-connected description is the same kernel as a pixel-pair reading: a 1×1 average
        // pool (the identity) in front makes the first layer spatial, so the same-pixel pairs are read instead.
        using var scope = NewDisposeScope();
        var x = Images();
        var fc = Kernel(Architecture.FullyConnected(2, 1, 1, WStd, BStd));
        var overPixels = new Serial([new AvgPool(1, 1), .. fc.Layers], KernelOutput.Ntk, new PairsPerBlock(4));
        overPixels.InputRepresentation(x.shape).Should().Be(Pairs(0));
        MaxRelativeError(overPixels.Compute(x, x), fc.Compute(x, x), floor: 1e-12).Should().BeLessThan(1e-12);
    }

    [Fact]
    public void A_description_that_does_not_compose_is_refused_naming_the_layer()
    {
        FluentActions.Invoking(() => Architecture.ConvNet(3, 4, 3, WStd, BStd, new Layer.AvgPool(2), new Layer.Flatten()).Shapes(FeatureShape.Image(1, 6, 6)))
            .Should().Throw<ArchitectureException>().WithMessage("layer 9 of *AvgPool(2×2, stride 2) does not fit a 1×1 feature map*");
        FluentActions.Invoking(() => new Architecture([new Layer.Conv(4, 3, 1, 0), new Layer.Dense(3, 1, 0)]).Shapes(FeatureShape.Image(1, 6, 6)))
            .Should().Throw<ArchitectureException>().WithMessage("layer 2 of *add Flatten or GlobalAvgPool*");
        FluentActions.Invoking(() => new Layer.Conv(4, 2, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*odd*");
        ConvNet(1, 4).Should().Be(ConvNet(1, 4)).And.NotBe(ConvNet(1, 5));
    }
}
