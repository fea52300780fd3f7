using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.RandomFeatures;
using Distillery.Kip;
using Microsoft.Extensions.Logging.Abstractions;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.RandomFeatures.RandomFeatureTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>KIP with a per-step redrawn random-feature kernel: learns, and is reproducible from the seed.</summary>
public sealed class KipTests(ITestOutputHelper output)
{
    private const int Steps = 16;

    private static ImageSet ClusteredTrain()
    {
        // Three classes: a class mean image plus noise, 20 images each.
        using var generator = new Generator(0, CPU);
        generator.manual_seed(21);
        var means = randn([3, 1, 8, 8], dtype: float64, generator: generator);
        var labels = arange(60, dtype: int64) % 3;
        var images = means.index_select(0, labels) + 0.8 * randn([60, 1, 8, 8], dtype: float64, generator: generator);
        return new ImageSet(images, labels, ["a", "b", "c"]);
    }

    private static SupportSet Distill(ImageSet train, IKernelFunction kernel, IProgressReporter progress) =>
        new KipAlgorithm().Distill(new DistillationContext
        {
            Device = CPU, DType = float64, Seed = 3, Logger = NullLogger.Instance, Train = train, Kernel = kernel,
            Progress = progress,
        }, new KipOptions
        {
            ImagesPerClass = 2, Steps = Steps, LearningRate = 0.04, TargetBatchSize = 60, Regularization = 1e-6,
            EvaluationInterval = 0, CheckpointInterval = 0,
        });

    private sealed class LossRecorder : IProgressReporter
    {
        public List<double> Losses { get; } = [];
        public void Start(string phase, long totalSteps, long firstStep = 0) { }
        public void Report(ProgressUpdate update) { if (update.Loss is { } loss) Losses.Add(loss); }
    }

    [Fact]
    public void Kip_with_the_kernel_lowers_the_loss_and_is_deterministic()
    {
        using var scope = NewDisposeScope();
        var train = ClusteredTrain();
        var options = new ConvNetRandomFeaturesOptions { Models = 2, Width = 8, Depth = 2, BlockSize = 32 };
        var kernel = Create(options);
        var progress = new LossRecorder();
        var first = Distill(train, kernel, progress);
        var second = Distill(train, Create(options), new LossRecorder());

        BitIdentical(first.Images, second.Images).Should().BeTrue("same seed, same kernel draws, same batches");
        progress.Losses.Should().HaveCount(Steps).And.OnlyContain(l => double.IsFinite(l));
        output.WriteLine("per-step KIP losses (a fresh draw each step): " + string.Join(", ", progress.Losses.Select(l => l.ToString("F4"))));

        // Judge with one fixed kernel (the initial draw, which KIP restores at the end) on the whole training set.
        var trainTargets = RegressionTargets.Encode(train.Labels, 3, float64, CPU);
        var start = train.Select(train.SampleClassBalanced(2, Run(3).CreateGenerator("kip.support-init")));
        var before = KipLoss.Compute(kernel, start.Images, RegressionTargets.Encode(start.Labels, 3, float64, CPU), train.Images, trainTargets, 1e-6).item<double>();
        var after = KipLoss.Compute(kernel, first.Images, first.Targets, train.Images, trainTargets, 1e-6).item<double>();
        output.WriteLine($"KIP loss on the training set with the initial draw: {before:F4} at the start, {after:F4} after {Steps} steps");
        after.Should().BeLessThan(0.7 * before);
        progress.Losses.Skip(Steps - 4).Average().Should().BeLessThan(progress.Losses.Take(4).Average());
    }
}
