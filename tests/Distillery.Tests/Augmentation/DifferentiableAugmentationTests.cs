using Distillery.Abstractions.Augmentation;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Augmentation;

/// <summary>
/// DSA's augmentation (Zhao &amp; Bilen, ICML 2021) as a contract component: Siamese use, per-image draws, parsing of
/// strategy strings and gradients through every family (float64 central differences).
/// </summary>
public sealed class DifferentiableAugmentationTests
{
    public static TheoryData<AugmentationKind> Families() => new(Enum.GetValues<AugmentationKind>());

    private static DifferentiableAugmentation Only(AugmentationKind kind) => new([kind]);

    private static Tensor Images(long n, int seed, ScalarType dtype = ScalarType.Float64) =>
        randn([n, 3, 8, 10], dtype, generator: new Generator((ulong)seed));

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    // ---- Siamese ----------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Families))]
    public void Generators_in_the_same_state_give_the_same_transform_and_other_seeds_other_ones(AugmentationKind kind)
    {
        using var scope = NewDisposeScope();
        var augmentation = Only(kind);
        var images = Images(5, seed: 1);
        using var first = augmentation.Sample(new Generator(42), 5);
        using var second = augmentation.Sample(new Generator(42), 5);

        first.Kind.Should().Be(kind);
        second.Draws.Should().BeEquivalentTo(first.Draws, o => o.WithStrictOrdering());
        Same(first.Apply(images), second.Apply(images)).Should().BeTrue("the same draws are the same transform");

        // Other seeds draw other parameters; a flip of probability ½ may agree on one seed, not on all eight.
        var others = Enumerable.Range(1, 8).Select(seed => augmentation.Sample(new Generator((ulong)seed), 5)).ToList();
        others.Should().OnlyContain(t => !t.Draws.SelectMany(d => d).SequenceEqual(first.Draws.SelectMany(d => d)));
        others.Select(t => t.Apply(images)).Should().Contain(output => !Same(output, first.Apply(images)));
        others.ForEach(t => t.Dispose());
    }

    [Theory, MemberData(nameof(Families))]
    public void One_shared_transform_acts_alike_on_a_real_batch_of_seven_and_a_synthetic_batch_of_three(AugmentationKind kind)
    {
        using var scope = NewDisposeScope();
        var real = Images(7, seed: 2);
        var rows = tensor(new long[] { 4, 0, 6 });
        var synthetic = real.index_select(0, rows).clone();
        using var transform = Only(kind).Sample(new Generator(3));

        var realOut = transform.Apply(real);
        var syntheticOut = transform.Apply(synthetic);

        transform.Count.Should().Be(1);
        realOut.shape.Should().Equal(real.shape);
        Same(realOut.index_select(0, rows), syntheticOut).Should().BeTrue("one draw is applied to both batches");
        // Shared: every image of the batch gets the transform of the first (two equal images give equal outputs).
        var twins = real.narrow(0, 0, 1).expand(4, -1, -1, -1).contiguous();
        var twinsOut = transform.Apply(twins);
        Same(twinsOut, twinsOut.narrow(0, 0, 1).expand(4, -1, -1, -1)).Should().BeTrue();
        Same(real, Images(7, seed: 2)).Should().BeTrue("the input is not changed");
    }

    [Fact]
    public void Sampling_picks_each_family_of_the_strategy_uniformly()
    {
        var augmentation = DifferentiableAugmentation.Parse(DifferentiableAugmentation.DsaStrategy);
        using var generator = new Generator(5);

        var kinds = Enumerable.Range(0, 120).Select(_ => { using var t = augmentation.Sample(generator, 2); return t.Kind; }).ToList();

        kinds.Distinct().Should().BeEquivalentTo(Enum.GetValues<AugmentationKind>(), "six families, 120 uniform picks");
        kinds.GroupBy(k => k).Should().OnlyContain(g => g.Count() >= 8, "about 20 each");
    }

    // ---- per image ---------------------------------------------------------------------------------------------------

    [Theory, MemberData(nameof(Families))]
    public void Per_image_transforms_draw_each_image_its_own_parameters_and_need_a_batch_of_that_size(AugmentationKind kind)
    {
        using var scope = NewDisposeScope();
        using var transform = Only(kind).Sample(new Generator(11), 16);

        transform.Count.Should().Be(16);
        transform.Draws.Should().HaveCount(16).And.OnlyContain(d => d.Count == transform.Draws[0].Count);
        transform.Draws.Select(d => d[0]).Distinct().Should().HaveCount(16, "16 independent uniforms");
        transform.Draws.SelectMany(d => d).Should().OnlyContain(u => u >= 0 && u < 1);
        var outputs = transform.Apply(Images(1, seed: 4).expand(16, -1, -1, -1).contiguous());
        Enumerable.Range(1, 15).Should().Contain(i => !Same(outputs[i], outputs[0]), "equal images get different transforms");

        transform.Invoking(t => t.Apply(Images(5, seed: 4))).Should().Throw<ArgumentException>().WithMessage("*16 images*got 5*");
        transform.Invoking(t => t.Apply(Images(1, seed: 4))).Should().Throw<ArgumentException>("a shared batch is not a per-image one");
        transform.Invoking(t => t.Apply(zeros(16, 8, 10))).Should().Throw<ArgumentException>().WithMessage("*[n, C, H, W]*");
    }

    [Fact]
    public void Counts_below_one_and_bad_strengths_are_refused()
    {
        var augmentation = Only(AugmentationKind.Crop);
        augmentation.Invoking(a => a.Sample(new Generator(1), 0)).Should().Throw<ArgumentOutOfRangeException>();
        var bad = () => new DifferentiableAugmentation([AugmentationKind.Scale], new AugmentationSettings { ScaleRatio = 0.5 });
        bad.Should().Throw<ArgumentException>().WithMessage("*ScaleRatio*0.5*at least 1*");
        var nan = () => DifferentiableAugmentation.Parse("flip", new AugmentationSettings { FlipProbability = double.NaN });
        nan.Should().Throw<ArgumentException>().WithMessage("*FlipProbability*");
    }

    [Fact]
    public void A_disposed_transform_refuses_to_apply()
    {
        var transform = Only(AugmentationKind.Color).Sample(new Generator(1));
        transform.Dispose();
        transform.Dispose();
        transform.Invoking(t => t.Apply(zeros(1, 1, 2, 2))).Should().Throw<ObjectDisposedException>();
    }

    // ---- strategy strings ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(DifferentiableAugmentation.DsaStrategy)]
    [InlineData("crop_scale_rotate")]
    [InlineData("rotate_flip")]
    [InlineData("cutout")]
    public void A_strategy_parses_into_its_families_in_order_and_prints_back(string strategy)
    {
        var augmentation = DifferentiableAugmentation.Parse(strategy);
        augmentation.Strategy.Should().Be(strategy);
        augmentation.Kinds.Select(k => k.ToString().ToLowerInvariant()).Should().Equal(strategy.Split('_'));
        augmentation.Settings.Should().Be(new AugmentationSettings());
        new DifferentiableAugmentation(augmentation.Kinds).Strategy.Should().Be(strategy);
    }

    [Fact]
    public void Family_names_are_case_insensitive_and_the_settings_are_kept()
    {
        var settings = new AugmentationSettings { CropRatio = 0.25 };
        var augmentation = DifferentiableAugmentation.Parse("Color_CROP_Flip", settings);
        augmentation.Kinds.Should().Equal(AugmentationKind.Color, AugmentationKind.Crop, AugmentationKind.Flip);
        augmentation.Strategy.Should().Be("color_crop_flip");
        augmentation.Settings.CropRatio.Should().Be(0.25);
        DifferentiableAugmentation.Parse(DifferentiableAugmentation.DsaStrategy).Kinds.Should().Equal(Enum.GetValues<AugmentationKind>());
    }

    [Theory]
    [InlineData("color_blur", "*unknown*'blur'*")]
    [InlineData("none", "*unknown*'none'*")]
    [InlineData("crop_scale_crop", "*crop appears twice*")]
    [InlineData("", "*empty*")]
    [InlineData("  ", "*empty*")]
    [InlineData("color__crop", "*unknown*''*")]
    [InlineData("flip_", "*unknown*''*")]
    [InlineData("0", "*unknown*'0'*")]
    public void A_bad_strategy_is_a_format_error_listing_the_allowed_families(string strategy, string pattern)
    {
        var parse = () => DifferentiableAugmentation.Parse(strategy);
        parse.Should().Throw<FormatException>().WithMessage(pattern).WithMessage("*color, crop, cutout, flip, scale, rotate*");
    }

    [Fact]
    public void An_augmentation_needs_distinct_known_families()
    {
        var empty = () => new DifferentiableAugmentation([]);
        empty.Should().Throw<ArgumentException>().WithMessage("*at least one*");
        var twice = () => new DifferentiableAugmentation([AugmentationKind.Flip, AugmentationKind.Flip]);
        twice.Should().Throw<ArgumentException>().WithMessage("*flip*twice*");
        var unknown = () => new DifferentiableAugmentation([(AugmentationKind)9]);
        unknown.Should().Throw<ArgumentException>().WithMessage("*9*allowed*");
    }

    // ---- gradients ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// The gradient of ⟨w, Apply(x)⟩ by autograd equals central differences with ε = 1e-6 at every pixel. For a fixed
    /// draw each family is linear (colour: affine) in x, so the differences are exact up to rounding.
    /// </summary>
    [Theory, MemberData(nameof(Families))]
    public void Autograd_through_every_family_agrees_with_central_differences(AugmentationKind kind)
    {
        using var scope = NewDisposeScope();
        using var transform = Only(kind).Sample(new Generator(17), 2);
        var x = randn([2, 2, 5, 6], ScalarType.Float64, generator: new Generator(5));
        var weights = randn([2, 2, 5, 6], ScalarType.Float64, generator: new Generator(6));
        double Functional(Tensor input) => transform.Apply(input).mul(weights).sum().ToDouble();

        var leaf = x.clone().requires_grad_(true);
        using (var grad = enable_grad()) transform.Apply(leaf).mul(weights).sum().backward();
        var autograd = Values(leaf.grad!);

        const double epsilon = 1e-6;
        var flat = Values(x);
        var differences = new double[flat.Length];
        for (var i = 0; i < flat.Length; i++)
        {
            var (plus, minus) = ((double[])flat.Clone(), (double[])flat.Clone());
            plus[i] += epsilon;
            minus[i] -= epsilon;
            differences[i] = (Functional(tensor(plus, x.shape)) - Functional(tensor(minus, x.shape))) / (2 * epsilon);
        }

        var scale = autograd.Max(Math.Abs);
        scale.Should().BeGreaterThan(0.1, "the functional depends on the images");
        for (var i = 0; i < flat.Length; i++)
            differences[i].Should().BeApproximately(autograd[i], 1e-6 * scale, $"pixel {i} of the {kind} transform");
    }

    [Theory, MemberData(nameof(Families))]
    public void Float32_images_stay_float32_and_carry_gradients(AugmentationKind kind)
    {
        using var scope = NewDisposeScope();
        using var transform = Only(kind).Sample(new Generator(23));
        var leaf = Images(3, seed: 8, ScalarType.Float32).requires_grad_(true);
        using var grad = enable_grad();

        var output = transform.Apply(leaf);
        output.dtype.Should().Be(ScalarType.Float32);
        output.device_type.Should().Be(DeviceType.CPU);
        output.square().sum().backward();
        leaf.grad!.abs().sum().ToDouble().Should().BePositive();
    }
}
