using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Kip;

/// <summary>The loss KIP minimises over the KRR predictions of a target batch (see <see cref="KipLoss"/>).</summary>
public enum KipLossKind
{
    /// <summary>0.5 · mean((ŷ_t − y_t)²): KIP's (Nguyen, Chen &amp; Lee, ICLR 2021).</summary>
    Mse,
    /// <summary>Cross-entropy of softmax(τ · ŷ_t) against the target classes, τ learned as log τ: RFAD's (Loo et al., NeurIPS 2022).</summary>
    PlattCrossEntropy,
}

/// <summary>How the Adam learning rates of <see cref="KipAlgorithm"/> change over its steps (see <see cref="KipSchedules"/>).</summary>
public enum KipSchedule
{
    /// <summary>The same rate at every step: KIP's (Nguyen, Chen &amp; Lee, ICLR 2021).</summary>
    Constant,
    /// <summary>Cosine annealing (Loshchilov &amp; Hutter, ICLR 2017) from the rate at step 1 towards 0 at the last step.</summary>
    Cosine,
}

/// <summary>The options of <see cref="KipAlgorithm"/> (manifest <c>algorithm.options</c>); ranges are checked by the host.</summary>
public sealed class KipOptions
{
    [Range(1, int.MaxValue), Description("Support images per class.")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(0, int.MaxValue), Description("Optimisation steps (Adam).")]
    public int Steps { get; set; } = 1000;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Adam learning rate of the images and labels (at step 1, when learningRateSchedule is cosine).")]
    public double LearningRate { get; set; } = 0.04;

    [Description("How the learning rates (images, labels and the Platt temperature alike) change over the steps: constant (KIP's), or cosine, annealed from their initial values towards 0 at the last step.")]
    public KipSchedule LearningRateSchedule { get; set; } = KipSchedule.Constant;

    [Range(1, int.MaxValue), Description("Target images drawn (class-balanced, TargetBatchSize / classes per class) at every step.")]
    public int TargetBatchSize { get; set; } = 5000;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Ridge λ relative to the mean diagonal of K_ss: λ = reg · tr(K_ss)/n.")]
    public double Regularization { get; set; } = 1e-6;

    [Description("The loss of the support set's KRR predictions on each target batch: mse, 0.5 · mean squared error (KIP); or plattCrossEntropy, the cross-entropy of softmax(τ · predictions) with τ > 0 learned (RFAD, Loo et al. 2022).")]
    public KipLossKind Loss { get; set; } = KipLossKind.Mse;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Adam learning rate of log τ, the Platt temperature, which starts at τ = 1 (plattCrossEntropy only; RFAD's 0.01).")]
    public double TemperatureLearningRate { get; set; } = 0.01;

    [Description("Also learn the support labels (regression targets), not only the images.")]
    public bool LearnLabels { get; set; }

    [Range(0, int.MaxValue), Description("Evaluate the support set every this many steps (0: only at the end).")]
    public int EvaluationInterval { get; set; } = 100;

    [Range(0, int.MaxValue), Description("Write a checkpoint every this many steps (0: only when stopped).")]
    public int CheckpointInterval { get; set; } = 100;
}
