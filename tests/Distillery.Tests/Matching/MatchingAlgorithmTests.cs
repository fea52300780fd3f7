using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Distillery.Matching;
using Distillery.Tests.Methods;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Matching;

/// <summary>
/// DC, DSA and DM run in process on a tiny clustered set (3 classes of 8 images, 1×8×8, a width-8 ConvNet of depth 2):
/// a stopped run resumes bit-identically — DC and DSA from inside an iteration, with the half-trained network — and
/// the starting point, the evaluations and the option checks behave.
/// </summary>
public sealed class MatchingAlgorithmTests
{
    private const int Classes = 3;

    private static ImageSet Train() => ClusteredImages(new Random(23), Classes, perClass: 8, [1, 8, 8], noise: 1.0);

    private static DistillationContext Context(ImageSet train, ICheckpointStore? checkpoints = null, IProgressReporter? progress = null,
                                               CancellationToken cancellation = default, ILogger? logger = null,
                                               Func<SupportSet, IReadOnlyDictionary<string, double>>? evaluate = null) => new()
    {
        Device = CPU,
        DType = train.Images.dtype,
        Seed = 9,
        Logger = logger ?? NullLogger.Instance,
        Train = train,
        Checkpoints = checkpoints ?? NullCheckpointStore.Instance,
        Progress = progress ?? NullProgressReporter.Instance,
        Cancellation = cancellation,
        Evaluate = evaluate ?? (_ => new Dictionary<string, double>()),
    };

    private static T Small<T>(T options) where T : MatchingOptions
    {
        options.ImagesPerClass = 2;
        options.Iterations = 3;
        options.RealBatchSize = 4;
        options.Width = 8;
        options.Depth = 2;
        options.EvaluationInterval = 0;
        options.CheckpointInterval = 0;
        if (options is GradientMatchingOptions matching)
        {
            matching.OuterLoop = 2;
            matching.InnerLoop = 2;
            matching.TrainBatchSize = 4; // 6 synthetic images: two shuffled batches per pass
        }
        return options;
    }

    /// <summary>Runs the named algorithm with small options.</summary>
    private static SupportSet Distill(string algorithm, DistillationContext run) => algorithm switch
    {
        "dc" => new DcAlgorithm().Distill(run, Small(new DcOptions())),
        "dsa" => new DsaAlgorithm().Distill(run, Small(new DsaOptions())),
        "dm" => new DmAlgorithm().Distill(run, Small(new DmOptions())),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>torch.equal: same dtype, same shape, every element equal.</summary>
    private static bool BitIdentical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Hands every formatted message (any level) to a callback.</summary>
    private sealed class CallbackLogger(Action<string> onMessage) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            onMessage(formatter(state, exception));
    }

    [Fact]
    public void Gradient_matching_logs_the_loops_it_runs_and_where_they_come_from()
    {
        using var scope = NewDisposeScope();
        var messages = new List<string>();
        var options = Small(new DcOptions());
        options.OuterLoop = null; // 2 images per class: the paper's loops for the nearest setting, 1 → (1, 1)
        options.Iterations = 1;

        new DcAlgorithm().Distill(Context(Train(), logger: new CallbackLogger(messages.Add)), options);

        messages.Should().Contain("dc: 1 iterations of 1 image updates (outerLoop null: the paper's), 2 passes over the synthetic set between two (innerLoop as set)");
    }

    [Theory]
    [InlineData("dc")]
    [InlineData("dsa")]
    public void Gradient_matching_stopped_inside_an_iteration_resumes_bit_identically(string algorithm)
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var uninterruptedProgress = new RecordingProgress();
        var uninterrupted = Distill(algorithm, Context(train, progress: uninterruptedProgress));

        // 3 iterations of 2 image updates: stop after update 3, the first of iteration 2, its network trained once.
        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var logger = new CallbackLogger(message => { if (message.StartsWith($"{algorithm} iteration 2, image update 1 of 2:", StringComparison.Ordinal)) cancellation.Cancel(); });
        var act = () => Distill(algorithm, Context(train, checkpoints: store, cancellation: cancellation.Token, logger: logger));
        act.Should().Throw<OperationCanceledException>();
        store.Saved.Should().ContainSingle().Which.Step.Should().Be(3);
        store.Saved[0].Tensors.Keys.Should().Contain(["images", "classes", "sgd.images.velocity", "iteration.lossSum", "network.conv0.weight", "network.readout.bias"]);

        var resumedProgress = new RecordingProgress();
        var resumed = Distill(algorithm, Context(train, checkpoints: store, progress: resumedProgress));

        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("the resumed run must end with the uninterrupted run's images, bit for bit");
        BitIdentical(resumed.Targets, uninterrupted.Targets).Should().BeTrue();
        BitIdentical(resumed.Classes, uninterrupted.Classes).Should().BeTrue();
        resumedProgress.Starts.Should().ContainSingle().Which.Should().Be((algorithm, 3L, 1L));
        resumedProgress.Updates.Select(u => u.Step).Should().Equal(2L, 3L);
        resumedProgress.Updates.Select(u => u.Loss).Should().Equal(uninterruptedProgress.Updates.Skip(1).Select(u => u.Loss),
            "the resumed iterations' mean losses, the half-done one included, match the uninterrupted run's exactly");
        store.Saved[^1].Step.Should().Be(6);
        store.Saved[^1].Tensors.Keys.Should().NotContain(k => k.StartsWith("network.", StringComparison.Ordinal), "a finished iteration's network is not needed again");
    }

    [Theory]
    [InlineData("dc", 2)]
    [InlineData("dm", 1)]
    public void Stopped_during_a_periodic_evaluation_keeps_the_finished_iterations(string algorithm, int updatesPerIteration)
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var uninterrupted = Distill(algorithm, Context(train));

        // Evaluations run at iterations 0 (the start), 1 and 2: the stop arrives inside the one after iteration 2, as a
        // long transfer evaluation sees it (it throws OperationCanceledException).
        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var evaluations = 0;
        IReadOnlyDictionary<string, double> Evaluate(SupportSet _)
        {
            if (++evaluations < 3) return new Dictionary<string, double>();
            cancellation.Cancel();
            cancellation.Token.ThrowIfCancellationRequested();
            return null!;
        }
        var act = () => DistillEvaluatingEveryIteration(algorithm, Context(train, checkpoints: store, cancellation: cancellation.Token, evaluate: Evaluate));
        act.Should().Throw<OperationCanceledException>();
        store.Saved.Should().ContainSingle("the finished iterations are checkpointed before the stop ends the run")
            .Which.Step.Should().Be(2 * updatesPerIteration);
        store.Saved[0].Tensors["evaluation.pending"].item<bool>().Should().BeTrue("the checkpoint records the evaluation it owes");

        // The resumed run first does the evaluation the stop interrupted, at iteration 2, then goes on.
        var resumedProgress = new RecordingProgress();
        var figure = new Dictionary<string, double> { ["probe.figure"] = 1 };
        var resumed = DistillEvaluatingEveryIteration(algorithm, Context(train, checkpoints: store, progress: resumedProgress, evaluate: _ => figure));
        resumedProgress.Updates.Select(u => (u.Step, u.Loss is null, u.Metrics == figure)).Should().Equal((2L, true, true), (3L, false, false));
        store.Saved[^1].Tensors["evaluation.pending"].item<bool>().Should().BeFalse();
        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("evaluations draw nothing the algorithm depends on, and the resumed run ends where the uninterrupted one does");
    }

    [Fact]
    public void Augmentation_options_are_kept_in_one_spelling_and_dm_takes_none_or_null()
    {
        new DsaOptions { Augmentation = "Color_CROP" }.Augmentation.Should().Be("color_crop");
        new DmOptions { Augmentation = "NONE" }.Augmentation.Should().BeNull("none and null are one experiment to the run folder's fingerprint");
        new DmOptions { Augmentation = "NONE" }.ParseAugmentation().Should().BeNull();
        new DmOptions { Augmentation = null }.ParseAugmentation().Should().BeNull();
        new DmOptions { Augmentation = null }.Validate().Should().BeEmpty();
        new DsaOptions { Augmentation = null! }.Validate().Should().ContainSingle().Which.Message.Should().Contain("use the algorithm dc");
        new DmOptions { Augmentation = "colour" }.Validate().Should().ContainSingle().Which.Message.Should().Contain("or none (or null)");
    }

    /// <summary>The named algorithm with small options and an evaluation after every iteration.</summary>
    private static SupportSet DistillEvaluatingEveryIteration(string algorithm, DistillationContext run) => algorithm switch
    {
        "dc" => new DcAlgorithm().Distill(run, Every(Small(new DcOptions()))),
        "dm" => new DmAlgorithm().Distill(run, Every(Small(new DmOptions()))),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    private static T Every<T>(T options) where T : MatchingOptions
    {
        options.EvaluationInterval = 1;
        return options;
    }

    [Fact]
    public void Distribution_matching_stopped_between_iterations_resumes_bit_identically()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var uninterruptedProgress = new RecordingProgress();
        var uninterrupted = Distill("dm", Context(train, progress: uninterruptedProgress));

        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var interrupted = new RecordingProgress(update => { if (update.Step == 1) cancellation.Cancel(); });
        var act = () => Distill("dm", Context(train, checkpoints: store, progress: interrupted, cancellation: cancellation.Token));
        act.Should().Throw<OperationCanceledException>();
        store.Saved.Should().ContainSingle().Which.Step.Should().Be(1);

        var resumedProgress = new RecordingProgress();
        var resumed = Distill("dm", Context(train, checkpoints: store, progress: resumedProgress));

        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("the resumed run must end with the uninterrupted run's images, bit for bit");
        resumedProgress.Starts.Should().ContainSingle().Which.Should().Be(("dm", 3L, 1L));
        resumedProgress.Updates.Select(u => u.Loss).Should().Equal(uninterruptedProgress.Updates.Skip(1).Select(u => u.Loss));
    }

    [Theory]
    [InlineData("dc")]
    [InlineData("dsa")]
    [InlineData("dm")]
    public void Starts_from_real_images_of_each_class_evaluates_and_moves_them(string algorithm)
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var evaluated = new List<Tensor>();
        var progress = new RecordingProgress();
        var run = Context(train, progress: progress, evaluate: support =>
        {
            evaluated.Add(support.Images.clone().DetachFromDisposeScope());
            return new Dictionary<string, double> { ["x"] = 1 };
        });
        var options = algorithm switch
        {
            "dc" => (MatchingOptions)Small(new DcOptions()),
            "dsa" => Small(new DsaOptions()),
            _ => Small(new DmOptions()),
        };
        options.EvaluationInterval = 2;
        options.Iterations = 4;

        var support = algorithm switch
        {
            "dc" => new DcAlgorithm().Distill(run, (DcOptions)options),
            "dsa" => new DsaAlgorithm().Distill(run, (DsaOptions)options),
            _ => new DmAlgorithm().Distill(run, (DmOptions)options),
        };

        progress.Updates.Where(u => u.Metrics is not null).Select(u => u.Step).Should().Equal(0, 2);
        progress.Updates.Where(u => u.Loss is not null).Should().HaveCount(4).And.OnlyContain(u => double.IsFinite(u.Loss!.Value) && u.Loss >= 0);
        Values(support.Classes).Should().Equal(0, 0, 1, 1, 2, 2);
        BitIdentical(support.Targets, EncodeTargets([0, 0, 1, 1, 2, 2], Classes)).Should().BeTrue("hard labels, one-hot minus 1/C");
        var start = evaluated[0];
        var trainRows = Enumerable.Range(0, train.Count).Select(i => (Row: Values(train.Images[i].flatten()), Label: (long)Values(train.Labels[i])[0])).ToArray();
        for (var i = 0; i < 6; i++)
        {
            var row = Values(start[i].flatten());
            trainRows.Where(t => t.Row.SequenceEqual(row)).Select(t => t.Label).Should().ContainSingle().Which.Should().Be(i / 2,
                "each synthetic image starts as a real image of its class");
        }
        BitIdentical(support.Images, start).Should().BeFalse("the images are optimised");
    }

    [Fact]
    public void Paper_loops_are_chosen_by_the_nearest_images_per_class_setting_unless_given()
    {
        (int, int) Loops(int ipc, int? outer = null, int? inner = null) =>
            new DcOptions { ImagesPerClass = ipc, OuterLoop = outer, InnerLoop = inner }.ResolvedLoops();

        Loops(1).Should().Be((1, 1));
        Loops(10).Should().Be((10, 50));
        Loops(50).Should().Be((50, 10));
        Loops(3).Should().Be((1, 1));
        Loops(15).Should().Be((10, 50), "a tie goes to the smaller setting");
        Loops(33).Should().Be((30, 20));
        Loops(200).Should().Be((50, 10));
        Loops(10, outer: 4, inner: 0).Should().Be((4, 0));
    }

    [Fact]
    public void Impossible_options_name_the_option()
    {
        using var scope = NewDisposeScope();
        var train = Train();
        var tooMany = Small(new DcOptions());
        tooMany.RealBatchSize = 9;
        var act = () => new DcAlgorithm().Distill(Context(train), tooMany);
        act.Should().Throw<OptionException>().Which.Option.Should().Be(nameof(DcOptions.RealBatchSize));

        var tooDeep = Small(new DmOptions());
        tooDeep.Depth = 4; // 8 → 4 → 2 → 1 → nothing
        tooDeep.Augmentation = "none";
        var deep = () => new DmAlgorithm().Distill(Context(train), tooDeep);
        deep.Should().Throw<OptionException>().Which.Option.Should().Be(nameof(DmOptions.Depth));

        new DsaOptions { Augmentation = "none" }.Validate().Should().ContainSingle().Which.Option.Should().Be("Augmentation");
        new DmOptions { Augmentation = "none" }.Validate().Should().BeEmpty("dm may run without augmentation");
        new DmOptions { Augmentation = "crop_wobble" }.Validate().Should().ContainSingle().Which.Option.Should().Be("Augmentation");
    }
}
