using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// The state of a matching run that outlives one image update: the synthetic images (grouped by class, fixed hard
/// labels), the momentum of their SGD, the number of image updates done and the partial loss sum of an unfinished
/// iteration. Every draw comes from (seed, purpose, index) streams, so no generator state is saved. Owns its tensors.
/// </summary>
internal sealed class SyntheticSet : IDisposable
{
    private SyntheticSet(Tensor images, Tensor classes, int classCount, double learningRate)
    {
        Images = images;
        Classes = classes;
        ClassCount = classCount;
        Optimizer = new SgdMomentum(images, learningRate, Momentum);
    }

    /// <summary>The image SGD's momentum in all three papers.</summary>
    public const double Momentum = 0.5;

    /// <summary>The synthetic images [classes·ipc, C, H, W], run dtype and device: ipc of class 0, then class 1, ….</summary>
    public Tensor Images { get; }

    /// <summary>The class of each image, int64 [classes·ipc], on the run's device.</summary>
    public Tensor Classes { get; }

    /// <summary>C, the number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Images per class.</summary>
    public long PerClass => Images.shape[0] / ClassCount;

    /// <summary>SGD with momentum 0.5 on <see cref="Images"/>.</summary>
    public SgdMomentum Optimizer { get; }

    /// <summary>Image updates done.</summary>
    public long Updates { get; set; }

    /// <summary>The sum of the losses of the updates done in the unfinished iteration (0 at an iteration boundary).</summary>
    public double LossSum { get; set; }

    /// <summary>
    /// True when a stop interrupted the periodic evaluation after <see cref="Updates"/> updates: the checkpoint records it
    /// and a resumed run evaluates before its next update, so that no evaluation is lost.
    /// </summary>
    public bool EvaluationPending { get; set; }

    /// <summary>
    /// The starting set — random real images of each class from <c>&lt;prefix&gt;.support-init</c>, or standard normal
    /// noise from the same stream — then, when the run folder holds a checkpoint, its state. Returns the checkpoint too
    /// (null on a fresh start), for what else the algorithm saved in it.
    /// </summary>
    /// <exception cref="OptionException">A class has fewer training images than <c>imagesPerClass</c> or <c>realBatchSize</c>.</exception>
    /// <exception cref="DistilleryException">The checkpoint lacks a tensor: another experiment wrote it.</exception>
    public static (SyntheticSet State, Checkpoint? Checkpoint) Start(DistillationContext run, MatchingOptions options, ClassBalancedSampler sampler, string prefix)
    {
        var train = run.Train;
        if (sampler.SmallestClassSize < options.ImagesPerClass)
            throw new OptionException(nameof(options.ImagesPerClass), $"{options.ImagesPerClass} per class asked for, but the smallest class of the training set has {sampler.SmallestClassSize} images");
        if (sampler.SmallestClassSize < options.RealBatchSize)
            throw new OptionException(nameof(options.RealBatchSize), $"{options.RealBatchSize} real images per class asked for, but the smallest class of the training set has {sampler.SmallestClassSize}");
        using var generator = run.CreateGenerator($"{prefix}.support-init");
        SyntheticSet state;
        if (options.Initialization == MatchingInitialization.Real)
        {
            var chosen = train.Select(sampler.Sample(options.ImagesPerClass, generator));
            state = new SyntheticSet(chosen.Images.to(run.DType).clone(), chosen.Labels.to(run.Device).clone(), train.ClassCount, options.ImageLearningRate);
            chosen.Images.Dispose();
            chosen.Labels.Dispose();
        }
        else
        {
            long[] shape = [(long)train.ClassCount * options.ImagesPerClass, train.Channels, train.Height, train.Width];
            using var noise = randn(shape, dtype: run.DType, generator: generator);
            state = new SyntheticSet(noise.to(run.Device), GroupedLabels(train.ClassCount, options.ImagesPerClass, run.Device), train.ClassCount, options.ImageLearningRate);
        }

        var checkpoint = run.Checkpoints.LoadLatest();
        if (checkpoint is not null)
        {
            state.Restore(checkpoint);
            run.Logger.LogInformation("Resuming {Algorithm} from the checkpoint after image update {Updates}", prefix, checkpoint.Step);
        }
        return (state, checkpoint);
    }

    /// <summary>Class labels grouped by class, int64 [classCount·perClass]: perClass zeros, then ones, …; a new tensor on <paramref name="device"/>.</summary>
    public static Tensor GroupedLabels(int classCount, int perClass, Device device) =>
        tensor(Enumerable.Range(0, classCount).SelectMany(c => Enumerable.Repeat((long)c, perClass)).ToArray(), device: device);

    /// <summary>A detached copy as a support set: the images, their one-hot-minus-1/C targets and classes.</summary>
    public SupportSet Snapshot() =>
        new(Images.detach().clone(), RegressionTargets.Encode(Classes, ClassCount, Images.dtype, Images.device), Classes.clone());

    /// <summary>Saves the state after <see cref="Updates"/> image updates, with <paramref name="extra"/> tensors (e.g. a half-trained network).</summary>
    public void SaveCheckpoint(RunContext run, IEnumerable<KeyValuePair<string, Tensor>> extra)
    {
        using var lossSum = tensor(LossSum, dtype: ScalarType.Float64);
        using var pending = tensor(EvaluationPending);
        var tensors = new Dictionary<string, Tensor>
        {
            ["images"] = Images,
            ["classes"] = Classes,
            ["sgd.images.velocity"] = Optimizer.Velocity,
            ["iteration.lossSum"] = lossSum,
            [Checkpoint.EvaluationPendingName] = pending,
        };
        foreach (var (name, value) in extra) tensors[name] = value;
        run.Checkpoints.Save(Updates, tensors);
    }

    private void Restore(Checkpoint checkpoint)
    {
        using var noGrad = no_grad();
        Images.copy_(checkpoint.Require("images"));
        Classes.copy_(checkpoint.Require("classes"));
        Optimizer.Restore(checkpoint.Require("sgd.images.velocity"));
        LossSum = checkpoint.Require("iteration.lossSum").item<double>();
        Updates = checkpoint.Step;
        EvaluationPending = checkpoint.EvaluationPending;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Images.Dispose();
        Classes.Dispose();
    }
}
