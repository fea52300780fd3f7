using Distillery.Abstractions.Runs;
using Distillery.Evaluation.Transfer;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Transfer.TransferTestData;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

[Collection(TransferCollection.Name)]
public sealed class TransferEvaluatorTests
{
    private static readonly Lazy<(Abstractions.Data.SupportSet Support, Abstractions.Data.ImageSet Test)> Data =
        new(() => (Support(Patterns(perClass: 4, seed: 1)), Patterns(perClass: 20, seed: 2)));

    /// <summary>Small networks and a short budget: enough for three separable patterns, fast on two cores.</summary>
    private static TransferOptions Small(TransferNetwork network, TransferLoss loss, int seeds = 2) => new()
    {
        Network = network,
        Width = network == TransferNetwork.Fc ? 64 : 16,
        Loss = loss,
        Steps = 100,
        Seeds = seeds,
    };

    [Theory]
    [InlineData(TransferNetwork.Fc, TransferLoss.Mse)]
    [InlineData(TransferNetwork.Fc, TransferLoss.CrossEntropy)]
    [InlineData(TransferNetwork.Convnet, TransferLoss.Mse)]
    [InlineData(TransferNetwork.Convnet, TransferLoss.CrossEntropy)]
    public void Learns_separable_patterns_from_a_few_images(TransferNetwork network, TransferLoss loss)
    {
        var (support, test) = Data.Value;
        var figures = new TransferEvaluator().Evaluate(EvaluationRun(support, test), Small(network, loss));

        figures["testAccuracy"].Should().BeGreaterThan(0.9);
        figures["seeds"].Should().Be(2);
        figures["testAccuracyStd"].Should().BeInRange(0, 0.5);
        figures["testAccuracy"].Should().BeApproximately((figures["testAccuracySeed0"] + figures["testAccuracySeed1"]) / 2, 1e-12);
    }

    [Theory]
    [InlineData(TransferOptimizer.Adam, CrossEntropyTargets.Softmax)]
    [InlineData(TransferOptimizer.Sgd, CrossEntropyTargets.Softmax)]
    public void Trains_on_soft_labels_and_with_adam(TransferOptimizer optimizer, CrossEntropyTargets targets)
    {
        var (support, test) = Data.Value;
        // Learned labels are rescaled regression targets; softmax keeps their ranking.
        var learned = support with { Targets = support.Targets * 4 };
        var options = Small(TransferNetwork.Fc, TransferLoss.CrossEntropy);
        options.Optimizer = optimizer;
        options.CrossEntropyTargets = targets;
        new TransferEvaluator().Evaluate(EvaluationRun(learned, test), options)["testAccuracy"].Should().BeGreaterThan(0.9);
    }

    [Fact]
    public void Class_targets_train_on_the_support_classes_whatever_the_learned_labels_say()
    {
        var (support, test) = Data.Value;
        // Learned labels that point at the wrong class: argmax targets follow them, class targets do not.
        var misleading = support with { Targets = support.Targets.roll(1, 1) };
        var options = Small(TransferNetwork.Fc, TransferLoss.CrossEntropy, seeds: 1);
        options.Optimizer = TransferOptimizer.Adam;
        options.CrossEntropyTargets = CrossEntropyTargets.Class;
        new TransferEvaluator().Evaluate(EvaluationRun(misleading, test), options)["testAccuracy"].Should().BeGreaterThan(0.9);
        options.CrossEntropyTargets = CrossEntropyTargets.Argmax;
        new TransferEvaluator().Evaluate(EvaluationRun(misleading, test), options)["testAccuracy"].Should().BeLessThan(0.5);
    }

    [Fact]
    public void A_diverging_network_stops_the_evaluation_with_what_to_change()
    {
        var (support, test) = Data.Value;
        var options = Small(TransferNetwork.Fc, TransferLoss.Mse, seeds: 1);
        options.LearningRate = 1e6;

        var act = () => new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);

        act.Should().Throw<Abstractions.NumericalFailureException>() // exit 3: the run failed, the input was valid
            .WithMessage("*training diverged*lower options.learningRate (now 1000000)*");
    }

    [Fact]
    public void Learns_with_shifted_batches()
    {
        var (support, test) = Data.Value; // mirroring would turn top-left patterns into top-right ones: shifts only
        var options = Small(TransferNetwork.Convnet, TransferLoss.Mse, seeds: 1);
        options.AugmentShift = 1;
        var plain = new TransferEvaluator().Evaluate(EvaluationRun(support, test), Small(TransferNetwork.Convnet, TransferLoss.Mse, seeds: 1));

        var figures = new TransferEvaluator().Evaluate(EvaluationRun(support, test), options);

        figures["testAccuracy"].Should().BeGreaterThan(0.9);
        figures["trainLoss"].Should().NotBe(plain["trainLoss"], "the network trained on other images than the plain run");
    }

    [Fact]
    public void Same_seed_gives_identical_figures_and_another_seed_other_networks()
    {
        var (support, test) = Data.Value;
        var options = Small(TransferNetwork.Convnet, TransferLoss.Mse);
        options.BatchSize = 5; // exercise the random batch order too
        options.Steps = 40;    // identity, not accuracy, is under test
        var first = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 11), options);
        var again = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 11), options);
        var other = new TransferEvaluator().Evaluate(EvaluationRun(support, test, seed: 12), options);

        again.Should().Equal(first);
        other["trainLoss"].Should().NotBe(first["trainLoss"]);
    }

    [Fact]
    public void One_seed_has_zero_std()
    {
        var (support, test) = Data.Value;
        var figures = new TransferEvaluator().Evaluate(EvaluationRun(support, test), Small(TransferNetwork.Fc, TransferLoss.Mse, seeds: 1));

        figures["testAccuracyStd"].Should().Be(0);
        figures["seeds"].Should().Be(1);
        figures["testAccuracy"].Should().Be(figures["testAccuracySeed0"]);
    }

    [Fact]
    public void Leaves_the_global_generator_as_it_found_it()
    {
        var (support, test) = Data.Value;
        random.manual_seed(5);
        var expected = rand(4).data<float>().ToArray();

        random.manual_seed(5);
        new TransferEvaluator().Evaluate(EvaluationRun(support, test), Small(TransferNetwork.Fc, TransferLoss.Mse, seeds: 1));
        rand(4).data<float>().ToArray().Should().Equal(expected);
    }

    [Fact]
    public void Trains_even_when_called_under_no_grad_and_reports_progress()
    {
        var (support, test) = Data.Value;
        var progress = new RecordingProgress();
        var context = new EvaluationContext
        {
            Device = CPU, DType = ScalarType.Float32, Seed = 3, Logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            Support = support, Test = test, Progress = progress,
        };
        using (no_grad()) // as the host evaluates
            new TransferEvaluator().Evaluate(context, Small(TransferNetwork.Fc, TransferLoss.Mse))["testAccuracy"].Should().BeGreaterThan(0.9);

        progress.Phase.Should().Be("transfer");
        progress.Total.Should().Be(200);
        progress.Steps.Should().NotBeEmpty().And.BeInAscendingOrder().And.EndWith(200);
        progress.Losses.Should().OnlyContain(l => double.IsFinite(l));
    }

    private sealed class RecordingProgress : IProgressReporter
    {
        public string? Phase;
        public long Total;
        public List<long> Steps { get; } = [];
        public List<double> Losses { get; } = [];
        public void Start(string phase, long totalSteps, long firstStep = 0) => (Phase, Total) = (phase, totalSteps);
        public void Report(ProgressUpdate update) { Steps.Add(update.Step); if (update.Loss is { } l) Losses.Add(l); }
    }
}
