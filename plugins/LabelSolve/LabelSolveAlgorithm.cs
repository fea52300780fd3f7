using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.LabelSolve;

/// <summary>
/// Label Solve (Nguyen, Novak, Xiao &amp; Lee, NeurIPS 2021): with the support images fixed, the labels that make
/// kernel ridge regression fit the targets best have a closed form,
/// y_s* = argmin ‖y_t − A y_s‖² with A = K_ts (K_ss + λI)⁻¹, the least-squares solution of A y_s = y_t.
/// A is never held whole: AᵀA and Aᵀy_t are accumulated over blocks of targets (in float64).
/// </summary>
[ExportAlgorithm("label-solve", Description = "Label Solve: random real images with labels solved in closed form for KRR.")]
public sealed class LabelSolveAlgorithm : IDistillationAlgorithm<LabelSolveOptions>
{
    public SupportSet Distill(DistillationContext run, LabelSolveOptions options)
    {
        var kernel = run.RequireKernel("label-solve");
        var train = run.Train;
        using var supportGenerator = run.CreateGenerator("label-solve.support");
        var support = train.Select(train.SampleClassBalanced(options.ImagesPerClass, supportGenerator));
        var supportImages = support.Images.to(run.DType);

        var targetSet = options.TargetCount == 0 ? train : SampleTargets(run, train, options.TargetCount);
        run.Logger.LogInformation("Label Solve: {Support} support images against {Targets} targets", support.Count, targetSet.Count);

        using var noGrad = no_grad();
        var labels = SolveLabels(run, kernel, supportImages, targetSet, options);
        return new SupportSet(supportImages, labels, support.Labels);
    }

    /// <summary>
    /// The least-squares labels [n, classes] (in the support images' dtype) for <paramref name="supportImages"/>
    /// [n, C, H, W] against every image of <paramref name="targets"/>.
    /// </summary>
    /// <exception cref="NumericalFailureException">A kernel matrix or the labels are not finite, or K_ss + λI cannot be solved.</exception>
    public static Tensor SolveLabels(RunContext run, IKernelFunction kernel, Tensor supportImages, ImageSet targets, LabelSolveOptions options)
    {
        const string step = "Label Solve";
        var regularizationOption = run.OptionPath(nameof(options.Regularization));
        using var scope = NewDisposeScope();
        var n = supportImages.shape[0];
        var classCount = targets.ClassCount;
        // A kernel with an explicit feature map: the support's features once, each target block's once. The targets are
        // read exactly once, so their features are streamed block by block rather than cached (that would only cost memory).
        var supportKernel = new SupportKernel(kernel, supportImages);
        var kss = supportKernel.SelfKernel().to(float64);

        var gram = zeros(n, n, dtype: float64, device: run.Device);
        var projection = zeros(n, classCount, dtype: float64, device: run.Device);
        run.Progress.Start("label-solve", (targets.Count + options.BlockSize - 1) / options.BlockSize);
        for (long start = 0, block = 0; start < targets.Count; start += options.BlockSize, block++)
        {
            run.Cancellation.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var length = Math.Min(options.BlockSize, targets.Count - start);
            var images = targets.Images.narrow(0, start, length).to(supportImages.dtype);
            var encoded = RegressionTargets.Encode(targets.Labels.narrow(0, start, length), classCount, float64, run.Device);
            // A_block = K_ts (K_ss + λI)⁻¹, computed as a solve against K_tsᵀ (K_ss is symmetric).
            var kts = supportKernel.Against(images).to(float64);
            FiniteCheck.Require(kts, step, $"the kernel matrix K_ts of targets {start}–{start + length - 1} against the support",
                "check the training images and the preprocessing");
            var design = KernelRidge.SolveWeights(kss, kts.t(), options.Regularization, step, regularizationOption).t();
            gram.add_(design.t().matmul(design), HeldScalars.One);
            projection.add_(design.t().matmul(encoded), HeldScalars.One);
            run.Progress.Report(new ProgressUpdate(block + 1));
        }
        var solution = linalg.lstsq(gram, projection).Solution.to(supportImages.dtype);
        FiniteCheck.Require(solution, step, $"the solved labels ({n}×{classCount}, {solution.dtype})",
            $"raise {regularizationOption} (now {options.Regularization:G3}) or run in float64 (\"dtype\": \"float64\")");
        return solution.MoveToOuterDisposeScope();
    }

    private static ImageSet SampleTargets(DistillationContext run, ImageSet train, int count)
    {
        var perClass = Math.Max(1, count / train.ClassCount);
        using var generator = run.CreateGenerator("label-solve.targets");
        return train.Select(train.SampleClassBalanced(perClass, generator));
    }
}

public sealed class LabelSolveOptions
{
    [Range(1, int.MaxValue), Description("Support images per class (random real images).")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Ridge λ relative to the mean diagonal of K_ss.")]
    public double Regularization { get; set; } = 1e-6;

    [Range(0, int.MaxValue), Description("Targets to fit: 0 for the whole training set, else a class-balanced subset of this size.")]
    public int TargetCount { get; set; }

    [Range(1, int.MaxValue), Description("Targets per block (bounds memory).")]
    public int BlockSize { get; set; } = 5000;
}
