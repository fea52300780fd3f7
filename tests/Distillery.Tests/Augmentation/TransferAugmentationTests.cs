using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Augmentation;
using Distillery.Engine.Manifests;
using Distillery.Evaluation.Transfer;
using Distillery.Tests.Transfer;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.Transfer.TransferTestData;

namespace Distillery.Tests.Augmentation;

/// <summary>The transfer evaluator's <c>augmentation</c> option: DSA's evaluation protocol, validated with its manifest path.</summary>
[Collection(TransferCollection.Name)]
public sealed class TransferAugmentationTests(ITestOutputHelper output)
{
    private static readonly Lazy<(Abstractions.Data.SupportSet Support, Abstractions.Data.ImageSet Test)> Data =
        new(() => (Support(Patterns(perClass: 4, seed: 1)), Patterns(perClass: 20, seed: 2)));

    private static TransferOptions Small(string? augmentation) => new()
    {
        Network = TransferNetwork.Fc, Width = 64, Loss = TransferLoss.CrossEntropy, Optimizer = TransferOptimizer.Adam,
        Steps = 100, Seeds = 2, BatchSize = 6, Augmentation = augmentation,
    };

    [Fact]
    public void A_bad_strategy_is_reported_under_the_options_manifest_path_with_the_allowed_families()
    {
        var problems = new List<string>();
        OptionsBinder.Bind(typeof(TransferOptions), JsonNode.Parse("""{ "augmentation": "color_blur" }""")!.AsObject(), "evaluation[1].options", problems);

        problems.Should().ContainSingle().Which.Should().Be(
            "evaluation[1].options.augmentation: unknown augmentation family 'blur' in 'color_blur'; allowed: color, crop, cutout, flip, scale, rotate, joined by _; or none (or null) for no augmentation");

        problems.Clear();
        var options = (TransferOptions)OptionsBinder.Bind(typeof(TransferOptions),
            JsonNode.Parse("""{ "augmentation": "Crop_flip", "augmentShift": 1 }""")!.AsObject(), "evaluation[0].options", problems);
        problems.Should().BeEmpty();
        options.ResolvedAugmentation()!.Kinds.Should().Equal(AugmentationKind.Crop, AugmentationKind.Flip);
        new TransferOptions().ResolvedAugmentation().Should().BeNull("no augmentation by default");
    }

    [Fact]
    public void The_evaluator_called_with_a_bad_strategy_names_the_option()
    {
        var (support, test) = Data.Value;
        var act = () => new TransferEvaluator().Evaluate(EvaluationRun(support, test), Small("crop_crop"));
        act.Should().Throw<OptionException>().Where(e => e.Option == nameof(TransferOptions.Augmentation))
            .WithMessage("*crop appears twice*allowed: color, crop, cutout, flip, scale, rotate*");
    }

    [Fact]
    public void A_short_run_with_dsa_augmentation_learns_and_gives_the_same_figures_for_the_same_seed()
    {
        var (support, test) = Data.Value;
        var evaluator = new TransferEvaluator();

        var augmented = evaluator.Evaluate(EvaluationRun(support, test), Small(DifferentiableAugmentation.DsaStrategy));
        var again = evaluator.Evaluate(EvaluationRun(support, test), Small(DifferentiableAugmentation.DsaStrategy));
        var otherSeed = evaluator.Evaluate(EvaluationRun(support, test, seed: 8), Small(DifferentiableAugmentation.DsaStrategy));
        var plain = evaluator.Evaluate(EvaluationRun(support, test), Small(null));

        output.WriteLine($"augmented: accuracy {augmented["testAccuracy"]}, loss {augmented["trainLoss"]}; plain: accuracy {plain["testAccuracy"]}, loss {plain["trainLoss"]}");
        augmented.Should().Equal(again, "every draw comes from the network's generator");
        augmented["testAccuracy"].Should().BeGreaterThan(0.8);
        otherSeed["trainLoss"].Should().NotBe(augmented["trainLoss"]);
        plain["trainLoss"].Should().NotBe(augmented["trainLoss"], "the batches were augmented");
        plain["trainLoss"].Should().BeLessThan(augmented["trainLoss"], "augmented batches are harder to fit than the images themselves");
    }

    [Fact]
    public void Shifts_and_flips_combine_with_dsa_augmentation_deterministically()
    {
        var (support, test) = Data.Value;
        var options = Small("crop_rotate");
        options.AugmentShift = 1;
        options.AugmentFlip = true;
        options.Seeds = 1;

        var first = new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);
        var second = new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);
        options.Augmentation = null;
        var shiftsOnly = new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);

        output.WriteLine($"shifts, flips, crop_rotate: accuracy {first["testAccuracy"]}; shifts and flips: {shiftsOnly["testAccuracy"]}");
        first.Should().Equal(second);
        first["trainLoss"].Should().NotBe(shiftsOnly["trainLoss"]);
        // No bar on accuracy: a mirror on every other step makes the top-left and top-right patterns one class.
        first["testAccuracy"].Should().BeInRange(0, 1);
    }

    [Theory]
    [InlineData("Color_CROP", "color_crop")]
    [InlineData(" flip ", "flip")]
    [InlineData("none", null)]
    [InlineData("NONE", null)]
    [InlineData(null, null)]
    public void The_augmentation_option_is_kept_in_one_spelling(string? given, string? kept)
    {
        // One spelling per strategy: the run folder's fingerprint compares option values, and these are one experiment.
        new TransferOptions { Augmentation = given }.Augmentation.Should().Be(kept);
        AugmentationOption.Canonical(given).Should().Be(kept, "the contract's helper is what every plugin's setter uses");
    }

    [Fact]
    public void The_contract_parses_an_augmentation_option_and_names_the_option_in_every_refusal()
    {
        AugmentationOption.Parse("augmentation", "Crop_Flip", allowNone: true)!.Strategy.Should().Be("crop_flip");
        AugmentationOption.Parse("augmentation", "none", allowNone: true).Should().BeNull();
        AugmentationOption.Problems("augmentation", DifferentiableAugmentation.DsaStrategy, allowNone: false).Should().BeEmpty();

        AugmentationOption.Problems("augmentation", null, allowNone: false).Should().ContainSingle()
            .Which.Should().Be(("augmentation", "an augmentation is required here; give a strategy such as color_crop_cutout_flip_scale_rotate"));
        AugmentationOption.Problems("augmentation", "  ", allowNone: true).Should().ContainSingle()
            .Which.Message.Should().Be("give a strategy such as color_crop_cutout_flip_scale_rotate; or none (or null) for no augmentation");
        var repeated = () => AugmentationOption.Parse("augmentation", "flip_flip", allowNone: false);
        repeated.Should().Throw<OptionException>().Which.Message.Should()
            .Be("options.augmentation: the augmentation family flip appears twice in 'flip_flip'; allowed: color, crop, cutout, flip, scale, rotate, each once");
    }
}
