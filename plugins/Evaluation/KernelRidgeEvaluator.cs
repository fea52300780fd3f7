using TorchSharp;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using static TorchSharp.torch;

namespace Distillery.Evaluation;

/// <summary>
/// Test accuracy of kernel ridge regression trained on the support set alone, over the whole test set, with the
/// run's kernel: the class predicted for a test image is the argmax of K_ts (K_ss + λI)⁻¹ y_s.
/// </summary>
[ExportEvaluator("krr", Description = "Kernel ridge regression on the support set: test accuracy and loss.")]
public sealed class KernelRidgeEvaluator : IEvaluator<KernelRidgeEvaluatorOptions>
{
    private const string Step = "evaluator 'krr'";

    public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, KernelRidgeEvaluatorOptions options)
    {
        var kernel = evaluation.Kernel
            ?? throw new DistilleryException("evaluator 'krr' needs a kernel: add a \"kernel\" section to the manifest");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var support = evaluation.Support;
        var test = evaluation.Test;
        // A kernel with an explicit feature map: the support's features once, the test set's from the run's cache (computed
        // once per draw, so periodic evaluations with a fixed draw only push the support images through the kernel).
        var supportKernel = new SupportKernel(kernel, support.Images);
        var testFeatures = supportKernel.FeatureMap is { } featureMap ? evaluation.FeatureCaches?.For(featureMap, test.Images, support.Images.dtype) : null;
        var weights = KernelRidge.SolveWeights(supportKernel.SelfKernel(), support.Targets, options.Regularization,
                                               Step, evaluation.OptionPath(nameof(options.Regularization)));

        long correct = 0;
        double squaredError = 0;
        for (long start = 0; start < test.Count; start += options.BlockSize)
        {
            evaluation.Cancellation.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var length = Math.Min(options.BlockSize, test.Count - start);
            var images = test.Images.narrow(0, start, length).to(support.Images.dtype);
            var labels = test.Labels.narrow(0, start, length);
            var kts = supportKernel.Against(images, testFeatures?.Slice(start, length));
            FiniteCheck.Require(kts, Step, $"the kernel matrix K_ts of test images {start}–{start + length - 1} against the support ({kts.dtype})",
                () => $"the test images' largest magnitude is {FiniteCheck.LargestMagnitude(images):G3}, the support images' {FiniteCheck.LargestMagnitude(support.Images):G3}: " +
                "check the preprocessing, or run in float64 (\"dtype\": \"float64\")");
            var predictions = kts.matmul(weights);
            FiniteCheck.Require(predictions, Step, $"the predictions for test images {start}–{start + length - 1}",
                $"the kernel ridge weights overflow: raise {evaluation.OptionPath(nameof(options.Regularization))} or run in float64 (\"dtype\": \"float64\")");
            correct += predictions.argmax(1).eq(labels.to(predictions.device)).sum().item<long>();
            var expected = RegressionTargets.Encode(labels, test.ClassCount, predictions.dtype, predictions.device);
            var residuals = predictions.sub(expected);
            squaredError += residuals.mul(residuals).sum().ToDouble();
        }
        return new Dictionary<string, double>
        {
            ["testAccuracy"] = (double)correct / test.Count,
            ["testLoss"] = 0.5 * squaredError / ((double)test.Count * test.ClassCount),
            ["testCount"] = test.Count,
        };
    }
}

public sealed class KernelRidgeEvaluatorOptions
{
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Ridge λ relative to the mean diagonal of K_ss.")]
    public double Regularization { get; set; } = 1e-6;

    [Range(1, int.MaxValue), Description("Test images per block (bounds memory).")]
    public int BlockSize { get; set; } = 5000;
}
