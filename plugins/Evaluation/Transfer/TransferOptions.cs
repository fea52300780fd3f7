using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions;
using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Augmentation;
using Distillery.Abstractions.Plugins;

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
    /// <summary>
    /// The class each support image was drawn for (the support set's <c>Classes</c>), whatever its target says: learned
    /// labels fit one kernel's regression, and can mislead a network trained on them (README "Results").
    /// </summary>
    Class,
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
public sealed class TransferOptions : IValidatableOptions
{
    [Description("Finite network trained on the support set: fc or convnet.")]
    public TransferNetwork Network { get; set; } = TransferNetwork.Convnet;

    [Range(1, int.MaxValue), Description("Hidden width (fc) or channels per conv block (convnet); null: 1024 for fc, 128 for convnet.")]
    public int? Width { get; set; }

    [Range(1, int.MaxValue), Description("Hidden layers (fc) or conv blocks (convnet); null: 1 for fc, 3 for convnet.")]
    public int? Depth { get; set; }

    [Description("Normalisation after each convolution (convnet only): instance or none.")]
    public TransferNorm Norm { get; set; } = TransferNorm.Instance;

    /// <summary>Standard or NTK layers (see <see cref="Abstractions.Architectures.Parameterization"/>); applies to fc and convnet alike.</summary>
    [Description("Layer parameterisation: standard (PyTorch's layers and init) or ntk (weights and biases ~ N(0, 1), scaled by " +
                 "wStd/√fan_in and bStd in the forward pass, as neural-tangents' stax; with norm none the network matches the fc or convnet kernel).")]
    public Parameterization Parameterization { get; set; } = Parameterization.Standard;

    /// <summary>W_std of neural-tangents' NTK layers; the default √2 is the kernels' (ReLU's variance-preserving gain).</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation of the ntk parameterisation (ignored by standard): the kernels' wStd.")]
    public double WStd { get; set; } = Math.Sqrt(2);

    /// <summary>b_std of neural-tangents' NTK layers; the default 0.1 is the kernels'.</summary>
    [Range(0.0, double.MaxValue), Description("Bias standard deviation of the ntk parameterisation (ignored by standard): the kernels' bStd.")]
    public double BStd { get; set; } = 0.1;

    /// <summary>Centring (DESIGN §4; RFAD's <c>--centering</c>): see <see cref="CentredNetwork"/>.</summary>
    [Description("Train the centred network f(x; θ) − f(x; θ₀) (θ₀: a frozen copy of the initial parameters), which starts at 0 as the " +
                 "kernel regime assumes, and predict with it; weight decay then pulls θ towards θ₀ rather than 0 (RFAD).")]
    public bool Centering { get; set; }

    /// <summary>Label scaling c (DESIGN §4; RFAD's <c>label_scale</c>): see <see cref="TrainingObjective"/>.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("With mse: train on c · targets, the loss divided by c² so that it stays in label units " +
                 "(RFAD's label_scale; its finite-network evaluation uses 8). 1: the targets as they are.")]
    public double LabelScale { get; set; } = 1;

    [Description("Training loss: mse (on the support targets) or crossEntropy.")]
    public TransferLoss Loss { get; set; } = TransferLoss.Mse;

    [Description("With crossEntropy: train on the argmax class of each target, on softmax(target) as soft labels, or on the class " +
                 "each support image was drawn for (class: ignores learned labels).")]
    public CrossEntropyTargets CrossEntropyTargets { get; set; } = CrossEntropyTargets.Argmax;

    [Description("Optimiser: sgd (momentum 0.9) or adam.")]
    public TransferOptimizer Optimizer { get; set; } = TransferOptimizer.Sgd;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Initial learning rate, annealed to 0 by a cosine schedule; null: 0.01 for sgd, 0.001 for adam.")]
    public double? LearningRate { get; set; }

    [Range(0.0, double.MaxValue), Description("L2 weight decay (added to the gradient by the optimiser).")]
    public double WeightDecay { get; set; } = 5e-4;

    [Range(1, int.MaxValue), Description("Optimisation steps per network (a fixed budget, independent of the support size).")]
    public int Steps { get; set; } = 1000;

    [Range(1, int.MaxValue), Description("Support images per step; null: min(256, support size). Smaller batches go through a fresh random order each epoch. " +
                                         "On the CPU a batch whose activations exceed 64 MiB runs in chunks whose gradients add up to the batch's.")]
    public int? BatchSize { get; set; }

    [Range(0, int.MaxValue), Description("Augmentation: shift each training image by up to this many pixels per direction, drawn per step (0: none).")]
    public int AugmentShift { get; set; }

    [Description("Augmentation: mirror each training image left-right with probability ½, drawn per step.")]
    public bool AugmentFlip { get; set; }

    /// <summary>
    /// DSA's evaluation protocol (Zhao &amp; Bilen, ICML 2021): every step draws one family of the strategy and, per image,
    /// its parameters (<see cref="DifferentiableAugmentation.Sample"/> with the batch size) from the network's generator.
    /// Combined with <see cref="AugmentShift"/> and <see cref="AugmentFlip"/>, those come first.
    /// </summary>
    [Description("Augmentation: DSA's differentiable augmentation of each training batch, a strategy of families joined by _ " +
                 "(color, crop, cutout, flip, scale, rotate; DSA's is color_crop_cutout_flip_scale_rotate): each step draws one family, " +
                 "then its parameters per image. null or none: no augmentation. Applied after augmentShift and augmentFlip when those are set too.")]
    public string? Augmentation { get => _augmentation; set => _augmentation = AugmentationOption.Canonical(value); } // one spelling per strategy: one run-folder fingerprint
    private string? _augmentation;

    [Range(1, int.MaxValue), Description("Networks trained, each from its own seed; figures are mean and std over them.")]
    public int Seeds { get; set; } = 3;

    [Range(1, int.MaxValue), Description("Test images per forward pass when measuring accuracy (bounds memory); on the CPU fewer when an activation would exceed 32 MiB.")]
    public int EvaluationBatchSize { get; set; } = 1000;

    // Methods, not properties: the host serialises public properties into the resolved manifest.
    public int ResolvedWidth() => Width ?? (Network == TransferNetwork.Fc ? 1024 : 128);
    public int ResolvedDepth() => Depth ?? (Network == TransferNetwork.Fc ? 1 : 3);
    public double ResolvedLearningRate() => LearningRate ?? (Optimizer == TransferOptimizer.Sgd ? 0.01 : 0.001);
    public int ResolvedBatchSize(int supportCount) => Math.Min(BatchSize ?? 256, supportCount);

    /// <summary>The augmentation <see cref="Augmentation"/> names, with DSA's strengths; null when it is null.</summary>
    /// <exception cref="OptionException">The strategy is not one (the message lists the allowed families).</exception>
    public DifferentiableAugmentation? ResolvedAugmentation() => AugmentationOption.Parse(nameof(Augmentation), Augmentation, allowNone: true);

    /// <summary>Cross-field checks the host reports with the option's manifest path (see <see cref="IValidatableOptions"/>).</summary>
    public IEnumerable<(string Option, string Message)> Validate()
    {
        var problems = new List<(string Option, string Message)>();
        // Scaling soft-label logits would change their temperature, not their scale: refuse rather than guess.
        if (Loss != TransferLoss.Mse && LabelScale != 1)
            problems.Add((nameof(LabelScale), $"scales the regression targets of loss mse only; it must be 1 with loss crossEntropy"));
        problems.AddRange(AugmentationOption.Problems(nameof(Augmentation), Augmentation, allowNone: true));
        return problems;
    }
}
