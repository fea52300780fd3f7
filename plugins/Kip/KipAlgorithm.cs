using TorchSharp;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// Kernel Inducing Points (Nguyen, Chen &amp; Lee, ICLR 2021): learn support images (and optionally labels) by
/// Adam on the KRR loss of a fresh class-balanced target batch at every step, starting from random real images.
/// </summary>
[ExportAlgorithm("kip", Description = "Kernel Inducing Points: learn support images whose kernel ridge regression fits the data.")]
public sealed class KipAlgorithm : IDistillationAlgorithm<KipOptions>
{
    public SupportSet Distill(DistillationContext run, KipOptions options)
    {
        var kernel = run.RequireKernel("kip");
        var train = run.Train;
        var sampler = new ClassBalancedSampler(train);
        var targetsPerClass = Math.Max(1, options.TargetBatchSize / train.ClassCount);
        if (sampler.SmallestClassSize < options.ImagesPerClass)
            throw new DistilleryException($"algorithm.options.imagesPerClass: {options.ImagesPerClass} per class asked for, but the smallest class of the training set has {sampler.SmallestClassSize} images");
        if (sampler.SmallestClassSize < targetsPerClass)
            throw new DistilleryException($"algorithm.options.targetBatchSize: {options.TargetBatchSize} needs {targetsPerClass} images per class, but the smallest class has {sampler.SmallestClassSize}");

        using var state = KipState.Start(run, options, sampler);
        using var trainTargets = RegressionTargets.Encode(train.Labels, train.ClassCount, run.DType, run.Device);

        run.Progress.Start("kip", options.Steps, state.Step);
        if (state.Step == 0 && options.EvaluationInterval > 0)
            run.Progress.Report(new ProgressUpdate(0, null, run.Evaluate(state.Snapshot()))); // the natural-image starting point
        while (state.Step < options.Steps)
        {
            if (run.Cancellation.IsCancellationRequested)
            {
                state.SaveCheckpoint(run);
                run.Cancellation.ThrowIfCancellationRequested();
            }

            var loss = TrainStep(run, options, kernel, state, sampler, targetsPerClass, trainTargets);
            if (!double.IsFinite(loss))
                throw new InvalidOperationException(
                    $"the KIP loss became {loss} at step {state.Step + 1}; try a smaller algorithm.options.learningRate or a larger regularization, or float64");
            state.Step++;

            IReadOnlyDictionary<string, double>? metrics = null;
            if (options.EvaluationInterval > 0 && state.Step % options.EvaluationInterval == 0 && state.Step < options.Steps)
            {
                (kernel as IRedrawableKernel)?.Redraw(null);
                metrics = run.Evaluate(state.Snapshot());
            }
            run.Progress.Report(new ProgressUpdate(state.Step, loss, metrics));

            if (options.CheckpointInterval > 0 && state.Step % options.CheckpointInterval == 0)
                state.SaveCheckpoint(run);
        }
        state.SaveCheckpoint(run);
        (kernel as IRedrawableKernel)?.Redraw(null); // evaluate with the kernel's initial draw
        run.Logger.LogInformation("KIP finished {Steps} steps", options.Steps);
        return state.Snapshot();
    }

    private static double TrainStep(DistillationContext run, KipOptions options, IKernelFunction kernel, KipState state,
                                    ClassBalancedSampler sampler, int targetsPerClass, Tensor trainTargets)
    {
        using var scope = NewDisposeScope();
        if (kernel is IRedrawableKernel redrawable)
        {
            using var kernelGenerator = run.CreateGenerator("kip.kernel", state.Step);
            redrawable.Redraw(kernelGenerator);
        }
        // Each step's batch depends only on (seed, step): a resumed run draws exactly the same batches.
        using var generator = run.CreateGenerator("kip.target-batch", state.Step);
        var batch = tensor(sampler.Sample(targetsPerClass, generator), device: run.Device);
        var targetImages = run.Train.Images.index_select(0, batch);
        var targetTargets = trainTargets.index_select(0, batch);

        var images = state.Images.detach().requires_grad_(true);
        var targets = options.LearnLabels ? state.Targets.detach().requires_grad_(true) : state.Targets;
        var loss = KipLoss.Compute(kernel, images, targets, targetImages, targetTargets, options.Regularization);

        var inputs = options.LearnLabels ? new[] { images, targets } : new[] { images };
        var gradients = autograd.grad([loss], inputs);
        state.ImageOptimizer.Update(gradients[0], state.Step + 1);
        if (options.LearnLabels) state.TargetOptimizer!.Update(gradients[1], state.Step + 1);
        return loss.ToDouble();
    }
}
