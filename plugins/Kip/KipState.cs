using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// Everything KIP's remaining steps depend on: the support images and targets, the optimiser moments and the
/// step count, and with the Platt loss log τ and its moments. Target batches are derived from (seed, step), so no
/// generator state needs saving.
/// </summary>
internal sealed class KipState : IDisposable
{
    private KipState(Tensor images, Tensor targets, Tensor classes, KipOptions options)
    {
        Images = images;
        Targets = targets;
        Classes = classes;
        ImageOptimizer = new Adam(images, options.LearningRate);
        TargetOptimizer = options.LearnLabels ? new Adam(targets, options.LearningRate) : null;
        if (options.Loss == KipLossKind.PlattCrossEntropy)
        {
            // τ starts at 1 (log τ = 0), as in RFAD; a 0-dimensional tensor of the images' dtype and device.
            LogTemperature = zeros(Array.Empty<long>(), dtype: images.dtype, device: images.device);
            TemperatureOptimizer = new Adam(LogTemperature, options.TemperatureLearningRate);
        }
    }

    public Tensor Images { get; }
    public Tensor Targets { get; }
    public Tensor Classes { get; }
    public Adam ImageOptimizer { get; }
    public Adam? TargetOptimizer { get; }
    public long Step { get; set; }

    /// <summary>
    /// True when a stop interrupted the periodic evaluation at <see cref="Step"/>: the checkpoint records it and a resumed
    /// run evaluates before its next step, so that no evaluation is lost.
    /// </summary>
    public bool EvaluationPending { get; set; }

    /// <summary>log τ of the Platt-scaled cross-entropy, 0-dimensional; null with the MSE loss. Owned by the state.</summary>
    public Tensor? LogTemperature { get; }
    public Adam? TemperatureOptimizer { get; }

    /// <summary>A class-balanced random sample of real training images, or the state of the latest checkpoint.</summary>
    public static KipState Start(DistillationContext run, KipOptions options, ClassBalancedSampler sampler)
    {
        using var generator = run.CreateGenerator("kip.support-init");
        var chosen = run.Train.Select(sampler.Sample(options.ImagesPerClass, generator));
        var state = new KipState(
            chosen.Images.to(run.DType).clone(),
            RegressionTargets.Encode(chosen.Labels, run.Train.ClassCount, run.DType, run.Device),
            chosen.Labels.to(run.Device).clone(),
            options);

        var checkpoint = run.Checkpoints.LoadLatest();
        if (checkpoint is not null)
        {
            state.Restore(checkpoint, run);
            run.Logger.LogInformation("Resuming KIP from the checkpoint at step {Step}", checkpoint.Step);
        }
        return state;
    }

    public SupportSet Snapshot() => new(Images.detach().clone(), Targets.detach().clone(), Classes.clone());

    public void SaveCheckpoint(RunContext run)
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["images"] = Images,
            ["targets"] = Targets,
            ["classes"] = Classes,
            ["adam.images.m"] = ImageOptimizer.FirstMoment,
            ["adam.images.v"] = ImageOptimizer.SecondMoment,
        };
        if (TargetOptimizer is not null)
        {
            tensors["adam.targets.m"] = TargetOptimizer.FirstMoment;
            tensors["adam.targets.v"] = TargetOptimizer.SecondMoment;
        }
        if (TemperatureOptimizer is not null)
        {
            tensors["logTemperature"] = LogTemperature!;
            tensors["adam.logTemperature.m"] = TemperatureOptimizer.FirstMoment;
            tensors["adam.logTemperature.v"] = TemperatureOptimizer.SecondMoment;
        }
        using var pending = tensor(EvaluationPending);
        tensors[Checkpoint.EvaluationPendingName] = pending;
        run.Checkpoints.Save(Step, tensors);
    }

    private void Restore(Checkpoint checkpoint, RunContext run)
    {
        using var noGrad = no_grad();
        Images.copy_(checkpoint.Require("images"));
        Targets.copy_(checkpoint.Require("targets"));
        Classes.copy_(checkpoint.Require("classes"));
        ImageOptimizer.Restore(checkpoint.Require("adam.images.m"), checkpoint.Require("adam.images.v"));
        TargetOptimizer?.Restore(checkpoint.Require("adam.targets.m"), checkpoint.Require("adam.targets.v"));
        if (TemperatureOptimizer is not null)
        {
            LogTemperature!.copy_(checkpoint.Require("logTemperature"));
            TemperatureOptimizer.Restore(checkpoint.Require("adam.logTemperature.m"), checkpoint.Require("adam.logTemperature.v"));
        }
        Step = checkpoint.Step;
        EvaluationPending = checkpoint.EvaluationPending;
    }

    public void Dispose()
    {
        ImageOptimizer.Dispose();
        TargetOptimizer?.Dispose();
        TemperatureOptimizer?.Dispose();
        LogTemperature?.Dispose();
    }
}
