using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Evaluation.Transfer;

/// <summary>The finite network trained on the support set.</summary>
public enum TransferNetwork
{
    /// <summary>Flatten → [Linear → ReLU] × depth → Linear.</summary>
    Fc,
    /// <summary>[Conv3×3 → norm → ReLU → AvgPool2×2] × depth → Flatten → Linear (the DC/KIP "ConvNet").</summary>
    Convnet,
}

/// <summary>Normalisation after each convolution of the ConvNet.</summary>
public enum TransferNorm
{
    /// <summary>Instance norm with a learned scale and shift per channel (the DC/DSA ConvNet's GroupNorm(width, width)).</summary>
    Instance,
    None,
}

public enum TransferLoss
{
    /// <summary>½ · mean over the batch of ‖f(x) − y‖² against the support targets (fixed or learned labels).</summary>
    Mse,
    /// <summary>Softmax cross-entropy; what it trains on is set by <see cref="TransferOptions.CrossEntropyTargets"/>.</summary>
    CrossEntropy,
}

public enum CrossEntropyTargets
{
    /// <summary>The argmax class of each support target (for one-hot minus 1/C targets: the image's class).</summary>
    Argmax,
    /// <summary>softmax(target) as a soft label distribution: keeps the information in learned labels.</summary>
    Softmax,
}

public enum TransferOptimizer
{
    /// <summary>SGD with momentum 0.9.</summary>
    Sgd,
    Adam,
}

/// <summary>
/// Options of the transfer evaluator. Nullable options default per network or optimiser (see each description),
/// so one manifest line such as <c>"network": "fc"</c> gives sensible settings.
/// </summary>
public sealed class TransferOptions
{
    [Description("Finite network trained on the support set: fc or convnet.")]
    public TransferNetwork Network { get; set; } = TransferNetwork.Convnet;

    [Range(1, int.MaxValue), Description("Hidden width (fc) or channels per conv block (convnet); null: 1024 for fc, 128 for convnet.")]
    public int? Width { get; set; }

    [Range(1, int.MaxValue), Description("Hidden layers (fc) or conv blocks (convnet); null: 1 for fc, 3 for convnet.")]
    public int? Depth { get; set; }

    [Description("Normalisation after each convolution (convnet only): instance or none.")]
    public TransferNorm Norm { get; set; } = TransferNorm.Instance;

    [Description("Training loss: mse (on the support targets) or crossEntropy.")]
    public TransferLoss Loss { get; set; } = TransferLoss.Mse;

    [Description("With crossEntropy: train on the argmax class of each target, or on softmax(target) as soft labels.")]
    public CrossEntropyTargets CrossEntropyTargets { get; set; } = CrossEntropyTargets.Argmax;

    [Description("Optimiser: sgd (momentum 0.9) or adam.")]
    public TransferOptimizer Optimizer { get; set; } = TransferOptimizer.Sgd;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Initial learning rate, annealed to 0 by a cosine schedule; null: 0.01 for sgd, 0.001 for adam.")]
    public double? LearningRate { get; set; }

    [Range(0.0, double.MaxValue), Description("L2 weight decay (added to the gradient by the optimiser).")]
    public double WeightDecay { get; set; } = 5e-4;

    [Range(1, int.MaxValue), Description("Optimisation steps per network (a fixed budget, independent of the support size).")]
    public int Steps { get; set; } = 1000;

    [Range(1, int.MaxValue), Description("Support images per step; null: min(256, support size). Smaller batches go through a fresh random order each epoch.")]
    public int? BatchSize { get; set; }

    [Range(0, int.MaxValue), Description("Augmentation: shift each training image by up to this many pixels per direction, drawn per step (0: none).")]
    public int AugmentShift { get; set; }

    [Description("Augmentation: mirror each training image left-right with probability ½, drawn per step.")]
    public bool AugmentFlip { get; set; }

    [Range(1, int.MaxValue), Description("Networks trained, each from its own seed; figures are mean and std over them.")]
    public int Seeds { get; set; } = 3;

    [Range(1, int.MaxValue), Description("Test images per forward pass when measuring accuracy (bounds memory).")]
    public int EvaluationBatchSize { get; set; } = 1000;

    // Methods, not properties: the host serialises public properties into the resolved manifest.
    public int ResolvedWidth() => Width ?? (Network == TransferNetwork.Fc ? 1024 : 128);
    public int ResolvedDepth() => Depth ?? (Network == TransferNetwork.Fc ? 1 : 3);
    public double ResolvedLearningRate() => LearningRate ?? (Optimizer == TransferOptimizer.Sgd ? 0.01 : 0.001);
    public int ResolvedBatchSize(int supportCount) => Math.Min(BatchSize ?? 256, supportCount);
}
