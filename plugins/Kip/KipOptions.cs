using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Kip;

public sealed class KipOptions
{
    [Range(1, int.MaxValue), Description("Support images per class.")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(0, int.MaxValue), Description("Optimisation steps (Adam).")]
    public int Steps { get; set; } = 1000;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Adam learning rate.")]
    public double LearningRate { get; set; } = 0.04;

    [Range(1, int.MaxValue), Description("Target images drawn (class-balanced, TargetBatchSize / classes per class) at every step.")]
    public int TargetBatchSize { get; set; } = 5000;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Ridge λ relative to the mean diagonal of K_ss: λ = reg · tr(K_ss)/n.")]
    public double Regularization { get; set; } = 1e-6;

    [Description("Also learn the support labels (regression targets), not only the images.")]
    public bool LearnLabels { get; set; }

    [Range(0, int.MaxValue), Description("Evaluate the support set every this many steps (0: only at the end).")]
    public int EvaluationInterval { get; set; } = 100;

    [Range(0, int.MaxValue), Description("Write a checkpoint every this many steps (0: only when stopped).")]
    public int CheckpointInterval { get; set; } = 100;
}
