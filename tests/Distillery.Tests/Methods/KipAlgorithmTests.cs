using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Distillery.Kernels;
using Distillery.Kernels.Layers;
using Distillery.Kip;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

public sealed class KipAlgorithmTests
{
    private const int Classes = 3, PerClass = 30;

    private static ImageSet Train(ScalarType dtype = ScalarType.Float64) =>
        ClusteredImages(new Random(61), Classes, PerClass, [1, 4, 4], noise: 1.0, dtype);

    private static DistillationContext Context(ImageSet train, long seed = 7, ICheckpointStore? checkpoints = null,
                                               IProgressReporter? progress = null, CancellationToken cancellation = default,
                                               Func<SupportSet, IReadOnlyDictionary<string, double>>? evaluate = null) => new()
    {
        Device = CPU,
        DType = train.Images.dtype,
        Seed = seed,
        Logger = NullLogger.Instance,
        Train = train,
        Kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1, Output = KernelOutput.Ntk }),
        Checkpoints = checkpoints ?? NullCheckpointStore.Instance,
        Progress = progress ?? NullProgressReporter.Instance,
        Cancellation = cancellation,
        Evaluate = evaluate ?? (_ => new Dictionary<string, double>()),
    };

    private static KipOptions Options(int steps, bool learnLabels = false, int checkpointInterval = 0,
                                      KipLossKind loss = KipLossKind.Mse, KipSchedule schedule = KipSchedule.Constant) => new()
    {
        Loss = loss,
        LearningRateSchedule = schedule,
        ImagesPerClass = 2,
        Steps = steps,
        LearningRate = 0.01,
        TargetBatchSize = 60, // 20 of the 30 images per class: a different batch every step
        Regularization = 1e-6,
        LearnLabels = learnLabels,
        EvaluationInterval = 0,
        CheckpointInterval = checkpointInterval,
    };

    /// <summary>torch.equal: same dtype, same shape, every element equal.</summary>
    private static bool BitIdentical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loss_goes_down(bool learnLabels)
    {
        using var scope = NewDisposeScope();
        var progress = new RecordingProgress();
        var options = Options(40, learnLabels);
        options.TargetBatchSize = 90; // the whole training set every step: the loss is then a deterministic objective
        options.LearningRate = 0.04;

        var support = new KipAlgorithm().Distill(Context(Train(), progress: progress), options);

        var losses = progress.Updates.Where(u => u.Loss is not null).Select(u => u.Loss!.Value).ToArray();
        losses.Should().HaveCount(40);
        losses.Should().OnlyContain(l => double.IsFinite(l) && l >= 0);
        losses[^1].Should().BeLessThan(0.4 * losses[0]);
        losses.Skip(30).Average().Should().BeLessThan(losses.Take(10).Average());
        progress.Starts.Should().ContainSingle().Which.Should().Be(("kip", 40L, 0L));
        progress.Updates.Select(u => u.Step).Should().Equal(Enumerable.Range(1, 40).Select(i => (long)i));

        support.Images.shape.Should().Equal(6, 1, 4, 4);
        support.Targets.shape.Should().Equal(6, Classes);
        Values(support.Classes).Should().Equal(0, 0, 1, 1, 2, 2);
        var encoded = EncodeTargets([0, 0, 1, 1, 2, 2], Classes);
        if (learnLabels) BitIdentical(support.Targets, encoded).Should().BeFalse("the labels are learned");
        else BitIdentical(support.Targets, encoded).Should().BeTrue("the labels stay one-hot minus 1/C");

        // The reported loss is the KIP loss of the support *before* the final step; the final support fits better still.
        using var last = KipLoss.Compute(Context(Train()).Kernel!, support.Images, support.Targets,
            Train().Images, RegressionTargets.Encode(Train().Labels, Classes, float64, CPU), 1e-6);
        last.item<double>().Should().BeLessThan(losses[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Platt_loss_goes_down_and_learns_its_temperature(bool learnLabels)
    {
        using var scope = NewDisposeScope();
        var progress = new RecordingProgress();
        var store = new InMemoryCheckpointStore();
        var options = Options(40, learnLabels, loss: KipLossKind.PlattCrossEntropy);
        options.TargetBatchSize = 90; // the whole training set every step: a deterministic objective
        options.LearningRate = 0.04;

        var support = new KipAlgorithm().Distill(Context(Train(), checkpoints: store, progress: progress), options);

        var losses = progress.Updates.Where(u => u.Loss is not null).Select(u => u.Loss!.Value).ToArray();
        losses.Should().HaveCount(40).And.OnlyContain(l => double.IsFinite(l) && l >= 0);
        losses.Skip(30).Average().Should().BeLessThan(0.8 * losses.Take(10).Average());
        var logTemperature = store.Saved[^1].Tensors["logTemperature"];
        logTemperature.shape.Should().BeEmpty();
        logTemperature.item<double>().Should().BeGreaterThan(0, "the KRR outputs are ±1-scale regressions: sharper logits fit better, so τ grows");
        var encoded = EncodeTargets([0, 0, 1, 1, 2, 2], Classes);
        BitIdentical(support.Targets, encoded).Should().Be(!learnLabels);
    }

    [Theory]
    [InlineData(KipSchedule.Constant)]
    [InlineData(KipSchedule.Cosine)]
    public void Every_image_update_is_Adams_step_at_the_scheduled_rate(KipSchedule schedule)
    {
        // From the checkpoint of every step: θ_t − θ_{t−1} = −lr·f(t)·√(1−β₂ᵗ)/(1−β₁ᵗ) · m_t / (√v_t + ε·√(1−β₂ᵗ)),
        // with f(t) the schedule's factor in closed form: 1, or ½(1 + cos(π(t−1)/T)).
        using var scope = NewDisposeScope();
        const int steps = 10;
        const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        var store = new InMemoryCheckpointStore();
        var options = Options(steps, checkpointInterval: 1, schedule: schedule);

        new KipAlgorithm().Distill(Context(Train(), checkpoints: store), options);

        store.Saved.Select(c => c.Step).Should().StartWith(Enumerable.Range(1, steps).Select(i => (long)i));
        for (var t = 2; t <= steps; t++)
        {
            var factor = schedule == KipSchedule.Cosine ? 0.5 * (1 + Math.Cos(Math.PI * (t - 1) / steps)) : 1;
            var bias2 = Math.Sqrt(1 - Math.Pow(beta2, t));
            var before = Values(store.Saved[t - 2].Tensors["images"]);
            var after = Values(store.Saved[t - 1].Tensors["images"]);
            var m = Values(store.Saved[t - 1].Tensors["adam.images.m"]);
            var v = Values(store.Saved[t - 1].Tensors["adam.images.v"]);
            for (var i = 0; i < after.Length; i++)
            {
                var expected = -options.LearningRate * factor * bias2 / (1 - Math.Pow(beta1, t)) * m[i] / (Math.Sqrt(v[i]) + epsilon * bias2);
                (after[i] - before[i]).Should().BeApproximately(expected, 1e-12, $"step {t}, coordinate {i}");
            }
        }
    }

    [Fact]
    public void Same_seed_gives_identical_support_and_a_different_seed_does_not()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var first = new KipAlgorithm().Distill(Context(train, seed: 3), Options(10));
        var second = new KipAlgorithm().Distill(Context(train, seed: 3), Options(10));
        var other = new KipAlgorithm().Distill(Context(train, seed: 4), Options(10));

        BitIdentical(first.Images, second.Images).Should().BeTrue();
        BitIdentical(first.Targets, second.Targets).Should().BeTrue();
        BitIdentical(first.Images, other.Images).Should().BeFalse();
    }

    [Theory]
    [InlineData(false, ScalarType.Float64, KipLossKind.Mse)]
    [InlineData(true, ScalarType.Float64, KipLossKind.Mse)]
    [InlineData(true, ScalarType.Float32, KipLossKind.Mse)]
    [InlineData(false, ScalarType.Float64, KipLossKind.PlattCrossEntropy)]
    [InlineData(true, ScalarType.Float64, KipLossKind.PlattCrossEntropy)]
    [InlineData(true, ScalarType.Float32, KipLossKind.PlattCrossEntropy)]
    [InlineData(true, ScalarType.Float64, KipLossKind.PlattCrossEntropy, KipSchedule.Cosine)]
    public void Cancelled_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one(bool learnLabels, ScalarType dtype, KipLossKind loss,
                                                                                     KipSchedule schedule = KipSchedule.Constant)
    {
        using var scope = NewDisposeScope();
        var train = Train(dtype);
        var options = Options(20, learnLabels, loss: loss, schedule: schedule);
        var uninterruptedProgress = new RecordingProgress();

        var uninterruptedStore = new InMemoryCheckpointStore();
        var uninterrupted = new KipAlgorithm().Distill(Context(train, checkpoints: uninterruptedStore, progress: uninterruptedProgress), options);

        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var interrupted = new RecordingProgress(update => { if (update.Step == 8) cancellation.Cancel(); });
        var act = () => new KipAlgorithm().Distill(Context(train, checkpoints: store, progress: interrupted, cancellation: cancellation.Token), options);
        act.Should().Throw<OperationCanceledException>();
        interrupted.Updates.Max(u => u.Step).Should().Be(8);
        store.Saved.Should().ContainSingle().Which.Step.Should().Be(8);
        store.Saved[0].Tensors.Keys.Should().Contain(["images", "targets", "classes", "adam.images.m", "adam.images.v"]);
        if (learnLabels) store.Saved[0].Tensors.Keys.Should().Contain(["adam.targets.m", "adam.targets.v"]);
        if (loss == KipLossKind.PlattCrossEntropy)
            store.Saved[0].Tensors.Keys.Should().Contain(["logTemperature", "adam.logTemperature.m", "adam.logTemperature.v"]);
        else
            store.Saved[0].Tensors.Keys.Should().NotContain("logTemperature");

        var resumedProgress = new RecordingProgress();
        var resumed = new KipAlgorithm().Distill(Context(train, checkpoints: store, progress: resumedProgress), options);

        resumedProgress.Starts.Should().ContainSingle().Which.Should().Be(("kip", 20L, 8L));
        resumedProgress.Updates.Select(u => u.Step).Should().Equal(Enumerable.Range(9, 12).Select(i => (long)i));
        resumed.Images.dtype.Should().Be(dtype);
        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("images after resuming must match bit for bit");
        BitIdentical(resumed.Targets, uninterrupted.Targets).Should().BeTrue("targets after resuming must match bit for bit");
        BitIdentical(resumed.Classes, uninterrupted.Classes).Should().BeTrue();
        store.Saved[^1].Step.Should().Be(20);
        resumedProgress.Updates.Select(u => u.Loss).Should().Equal(uninterruptedProgress.Updates.Skip(8).Select(u => u.Loss),
            "the resumed steps' losses match the uninterrupted run's exactly");
        if (loss == KipLossKind.PlattCrossEntropy)
        {
            var final = store.Saved[^1].Tensors["logTemperature"];
            BitIdentical(final, uninterruptedStore.Saved[^1].Tensors["logTemperature"]).Should().BeTrue("log τ after resuming must match bit for bit");
            final.ToDouble().Should().NotBe(0, "τ is learned");
        }
    }

    [Fact]
    public void Run_killed_mid_way_resumes_from_the_last_periodic_checkpoint_bit_identically()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var options = Options(20, learnLabels: true, checkpointInterval: 5);
        var uninterrupted = new KipAlgorithm().Distill(Context(train), options);

        var store = new InMemoryCheckpointStore();
        var crashing = new RecordingProgress(update => { if (update.Step == 12) throw new IOException("simulated crash"); });
        var act = () => new KipAlgorithm().Distill(Context(train, checkpoints: store, progress: crashing), options);
        act.Should().Throw<IOException>();
        store.Saved.Select(c => c.Step).Should().Equal(5, 10);

        var resumed = new KipAlgorithm().Distill(Context(train, checkpoints: store), options);
        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue();
        BitIdentical(resumed.Targets, uninterrupted.Targets).Should().BeTrue();
    }

    private sealed class RecordingKernel(Distillery.Abstractions.Plugins.IKernelFunction inner) : Distillery.Abstractions.Plugins.IKernelFunction
    {
        public List<Tensor> TargetBatches { get; } = [];

        public Tensor Compute(Tensor x1, Tensor x2)
        {
            if (x1.shape[0] != x2.shape[0]) TargetBatches.Add(x1.detach().clone().DetachFromDisposeScope());
            return inner.Compute(x1, x2);
        }
    }

    [Fact]
    public void Every_step_draws_a_fresh_class_balanced_target_batch()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var kernel = new RecordingKernel(Context(train).Kernel!);
        var run = new DistillationContext
        {
            Device = CPU, DType = float64, Seed = 5, Logger = NullLogger.Instance, Train = train, Kernel = kernel,
        };

        new KipAlgorithm().Distill(run, Options(6));

        kernel.TargetBatches.Should().HaveCount(6);
        var trainRows = Enumerable.Range(0, train.Count).Select(i => Values(train.Images[i].flatten())).ToArray();
        var trainLabels = Values(train.Labels);
        var batches = new List<int[]>();
        foreach (var batch in kernel.TargetBatches)
        {
            batch.shape.Should().Equal(60, 1, 4, 4);
            var indices = Enumerable.Range(0, 60).Select(r =>
            {
                var row = Values(batch[r].flatten());
                return Array.FindIndex(trainRows, t => t.SequenceEqual(row));
            }).ToArray();
            indices.Should().NotContain(-1, "target images are real training images").And.OnlyHaveUniqueItems();
            indices.GroupBy(i => trainLabels[i]).Select(g => g.Count()).Should().Equal(20, 20, 20);
            batches.Add(indices.Order().ToArray());
        }
        batches.Select(b => string.Join(",", b)).Distinct().Should().HaveCount(6, "each step draws a new batch");
    }

    [Fact]
    public void Periodic_evaluation_sees_the_starting_point_and_every_interval()
    {
        using var scope = NewDisposeScope();
        var seen = new List<int>();
        var progress = new RecordingProgress();
        var options = Options(12);
        options.EvaluationInterval = 5;

        new KipAlgorithm().Distill(Context(Train(), progress: progress, evaluate: s =>
        {
            seen.Add(s.Count);
            return new Dictionary<string, double> { ["x"] = 1 };
        }), options);

        seen.Should().Equal(6, 6, 6);
        progress.Updates.Where(u => u.Metrics is not null).Select(u => u.Step).Should().Equal(0, 5, 10);
    }

    [Fact]
    public void Stopped_during_a_periodic_evaluation_resumes_with_that_evaluation_then_the_remaining_steps()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var options = Options(12);
        options.EvaluationInterval = 5;
        var uninterrupted = new KipAlgorithm().Distill(Context(train), options);

        // The stop arrives inside the evaluation at step 5, as a long transfer evaluation sees it.
        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var interrupted = new RecordingProgress();
        var act = () => new KipAlgorithm().Distill(Context(train, checkpoints: store, progress: interrupted, cancellation: cancellation.Token, evaluate: _ =>
        {
            if (interrupted.Updates.Count == 5) cancellation.Cancel(); // step 0's evaluation and steps 1–4 reported
            cancellation.Token.ThrowIfCancellationRequested();
            return new Dictionary<string, double>();
        }), options);
        act.Should().Throw<OperationCanceledException>();
        interrupted.Updates[^1].Should().Match<ProgressUpdate>(u => u.Step == 5 && u.Loss != null && u.Metrics == null, "the finished step is reported, its figures are owed");
        store.Saved.Should().ContainSingle().Which.Step.Should().Be(5);
        store.Saved[0].Tensors["evaluation.pending"].item<bool>().Should().BeTrue();

        var resumedProgress = new RecordingProgress();
        var figure = new Dictionary<string, double> { ["probe.figure"] = 1 };
        var resumed = new KipAlgorithm().Distill(Context(train, checkpoints: store, progress: resumedProgress, evaluate: _ => figure), options);

        resumedProgress.Updates.Where(u => u.Metrics is not null).Select(u => u.Step).Should().Equal(5, 10);
        resumedProgress.Updates[0].Should().Match<ProgressUpdate>(u => u.Step == 5 && u.Loss == null, "the owed evaluation comes first, without a second loss for step 5");
        resumedProgress.Updates.Skip(1).Select(u => u.Step).Should().Equal(Enumerable.Range(6, 7).Select(i => (long)i));
        store.Saved[^1].Tensors["evaluation.pending"].item<bool>().Should().BeFalse();
        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("an evaluation draws nothing the steps depend on");
    }

    [Fact]
    public void More_images_per_class_than_a_class_has_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        var options = Options(5);
        options.ImagesPerClass = PerClass + 1;

        var act = () => new KipAlgorithm().Distill(Context(Train()), options);

        act.Should().Throw<DistilleryException>()
            .Which.Message.Should().Contain("imagesPerClass").And.Contain("31").And.Contain("30");
    }

    [Fact]
    public void Target_batch_larger_than_a_class_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        var options = Options(5);
        options.TargetBatchSize = 3 * (PerClass + 1);

        var act = () => new KipAlgorithm().Distill(Context(Train()), options);

        act.Should().Throw<DistilleryException>().Which.Message.Should().Contain("targetBatchSize");
    }

    [Fact]
    public void Missing_kernel_is_a_clear_error()
    {
        var run = new DistillationContext
        {
            Device = CPU, DType = float64, Seed = 1, Logger = NullLogger.Instance, Train = Train(),
        };
        var act = () => new KipAlgorithm().Distill(run, Options(5));
        act.Should().Throw<DistilleryException>().WithMessage("*kip*kernel*");
    }
}
