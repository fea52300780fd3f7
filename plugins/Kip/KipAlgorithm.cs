using TorchSharp;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
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
            throw new OptionException(nameof(options.ImagesPerClass), $"{options.ImagesPerClass} per class asked for, but the smallest class of the training set has {sampler.SmallestClassSize} images");
        if (sampler.SmallestClassSize < targetsPerClass)
            throw new OptionException(nameof(options.TargetBatchSize), $"{options.TargetBatchSize} needs {targetsPerClass} images per class, but the smallest class has {sampler.SmallestClassSize}");

        using var state = KipState.Start(run, options, sampler);
        using var trainTargets = RegressionTargets.Encode(train.Labels, train.ClassCount, run.DType, run.Device);
        using var trainFeatures = KipKernelMatrices.TrainFeatures(kernel, train, run.DType); // a fixed draw's features, computed once

        run.Progress.Start("kip", options.Steps, state.Step);
        // The natural-image starting point, or the evaluation a stop interrupted (the resumed run owes it before going on).
        if ((state.Step == 0 && options.EvaluationInterval > 0) || state.EvaluationPending)
            run.Progress.Report(new ProgressUpdate(state.Step, null, Evaluate(run, kernel, state, null)));
        while (state.Step < options.Steps)
        {
            if (run.Cancellation.IsCancellationRequested)
            {
                state.SaveCheckpoint(run);
                run.Cancellation.ThrowIfCancellationRequested();
            }

            var loss = TrainStep(run, options, kernel, trainFeatures, state, sampler, targetsPerClass, trainTargets);
            state.Step++;

            IReadOnlyDictionary<string, double>? metrics = null;
            if (options.EvaluationInterval > 0 && state.Step % options.EvaluationInterval == 0 && state.Step < options.Steps)
                metrics = Evaluate(run, kernel, state, loss);
            run.Progress.Report(new ProgressUpdate(state.Step, loss, metrics));

            if (options.CheckpointInterval > 0 && state.Step % options.CheckpointInterval == 0)
                state.SaveCheckpoint(run);
        }
        state.SaveCheckpoint(run);
        (kernel as IRedrawableKernel)?.Redraw(null); // evaluate with the kernel's initial draw
        RequireFiniteKernel(run, kernel, state, options);
        run.Logger.LogInformation("KIP finished {Steps} steps", options.Steps);
        LogTemperature(run, state);
        return state.Snapshot();
    }

    /// <summary>
    /// The periodic evaluation of the support set at <see cref="KipState.Step"/>, on the kernel's initial draw. Stopped
    /// during it (a transfer evaluation can take minutes), the finished step is reported with its
    /// <paramref name="loss"/> (when it has not been yet) and checkpointed with the evaluation marked as owed, so that
    /// the resumed run does it first instead of losing it.
    /// </summary>
    /// <exception cref="OperationCanceledException">The run was stopped during the evaluation; the checkpoint is written.</exception>
    private static IReadOnlyDictionary<string, double> Evaluate(DistillationContext run, IKernelFunction kernel, KipState state, double? loss)
    {
        (kernel as IRedrawableKernel)?.Redraw(null);
        IReadOnlyDictionary<string, double> metrics;
        try
        {
            metrics = run.Evaluate(state.Snapshot());
        }
        catch (OperationCanceledException)
        {
            if (loss is not null) run.Progress.Report(new ProgressUpdate(state.Step, loss, null));
            state.EvaluationPending = true;
            state.SaveCheckpoint(run);
            throw;
        }
        state.EvaluationPending = false;
        LogTemperature(run, state);
        return metrics;
    }

    /// <summary>
    /// The last update is followed by no loss that would show it blew up: check the kernel of the final support set
    /// (images can stay finite yet so large that their kernel overflows). Costs one K_ss, less than one step.
    /// </summary>
    private static void RequireFiniteKernel(RunContext run, IKernelFunction kernel, KipState state, KipOptions options)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var kss = kernel.Compute(state.Images, state.Images);
        FiniteCheck.Require(kss, $"KIP step {state.Step} (the last)", $"the kernel matrix K_ss of the final support set ({kss.shape[0]}×{kss.shape[1]}, {kss.dtype})",
            () => $"its images reach magnitude {FiniteCheck.LargestMagnitude(state.Images):G3}; {Advice(run, options)}");
    }

    /// <summary>With the Platt loss, logs the learned temperature τ (the progress contract has no place for a parameter).</summary>
    private static void LogTemperature(DistillationContext run, KipState state)
    {
        if (state.LogTemperature is null) return;
        using var noGrad = no_grad();
        using var temperature = state.LogTemperature.exp();
        run.Logger.LogInformation("KIP step {Step}: Platt temperature τ = {Temperature:G6}", state.Step, temperature.ToDouble());
    }

    /// <summary>What to change when KIP's numbers blow up.</summary>
    private static string Advice(RunContext run, KipOptions options) =>
        $"lower {run.OptionPath(nameof(options.LearningRate))} (now {options.LearningRate:G3}), raise {run.OptionPath(nameof(options.Regularization))} " +
        $"(now {options.Regularization:G3}) or run in float64 (\"dtype\": \"float64\")";

    private static double TrainStep(DistillationContext run, KipOptions options, IKernelFunction kernel, FeatureCache? trainFeatures, KipState state,
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

        var step = $"KIP step {state.Step + 1}";
        var images = state.Images.detach().requires_grad_(true);
        var targets = options.LearnLabels ? state.Targets.detach().requires_grad_(true) : state.Targets;
        var logTemperature = state.LogTemperature?.detach().requires_grad_(true);
        var (kss, kts) = KipKernelMatrices.Compute(kernel, trainFeatures, images, targetImages, batch);
        var loss = KipLoss.Compute(kss, kts, targets, targetTargets, options.Regularization, step, logTemperature,
                                   run.OptionPath(nameof(options.Regularization)));
        var value = loss.ToDouble();
        if (!double.IsFinite(value))
            throw new NumericalFailureException($"{step}: the KIP loss became {value}; {Advice(run, options)}");

        var inputs = new List<Tensor> { images };
        if (options.LearnLabels) inputs.Add(targets);
        if (logTemperature is not null) inputs.Add(logTemperature);
        var gradients = autograd.grad([loss], inputs);
        // A function of the step alone, so a resumed run applies exactly the rates an uninterrupted one would.
        var rateFactor = KipSchedules.RateFactor(options.LearningRateSchedule, state.Step + 1, options.Steps);
        state.ImageOptimizer.Update(gradients[0], state.Step + 1, rateFactor);
        FiniteCheck.Require(state.Images, step, "the support images after the Adam update", Advice(run, options));
        if (options.LearnLabels)
        {
            state.TargetOptimizer!.Update(gradients[1], state.Step + 1, rateFactor);
            FiniteCheck.Require(state.Targets, step, "the support labels after the Adam update", Advice(run, options));
        }
        if (logTemperature is not null)
        {
            state.TemperatureOptimizer!.Update(gradients[^1], state.Step + 1, rateFactor);
            FiniteCheck.Require(state.LogTemperature!, step, "log τ, the Platt temperature, after the Adam update", Advice(run, options));
        }
        return value;
    }
}
