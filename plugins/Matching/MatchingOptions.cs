using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions;
using Distillery.Abstractions.Augmentation;
using Distillery.Abstractions.Plugins;

namespace Distillery.Matching;

/// <summary>How the synthetic images start.</summary>
public enum MatchingInitialization
{
    /// <summary>Random real training images of each class (the DC/DSA/DM papers' choice for their reported results).</summary>
    Real,
    /// <summary>Standard normal noise in the preprocessed space.</summary>
    Noise,
}

/// <summary>The normalisation after each convolution of the matching ConvNet.</summary>
public enum MatchingNorm
{
    /// <summary>Instance normalisation with a learned scale and shift (the papers' ConvNet: GroupNorm(C, C)).</summary>
    Instance,
    /// <summary>No normalisation.</summary>
    None,
}

/// <summary>
/// What DC, DSA and DM share: the synthetic set (images per class, how it starts), the ConvNet whose gradients or
/// embeddings are matched (the DC ConvNet: [Conv3×3(width) → norm → ReLU → AvgPool2×2] × depth → Flatten →
/// Dense(classes), PyTorch's initialisation), the real batches and the bookkeeping. Ranges are checked by the host.
/// </summary>
public abstract class MatchingOptions
{
    /// <summary>Synthetic images per class.</summary>
    [Range(1, int.MaxValue), Description("Synthetic images per class.")]
    public int ImagesPerClass { get; set; } = 10;

    /// <summary>Outer iterations; each draws a fresh network.</summary>
    [Range(0, int.MaxValue), Description("Outer iterations; each draws a fresh randomly initialised network.")]
    public int Iterations { get; set; }

    /// <summary>Learning rate of the SGD (momentum 0.5) on the synthetic images.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Learning rate of the SGD (momentum 0.5) on the synthetic images.")]
    public double ImageLearningRate { get; set; }

    /// <summary>Real images drawn from each class for every image update.</summary>
    [Range(1, int.MaxValue), Description("Real images drawn from each class for every image update (the papers' 256).")]
    public int RealBatchSize { get; set; } = 256;

    /// <summary>How the synthetic images start.</summary>
    [Description("How the synthetic images start: real (random real images of each class) or noise (standard normal).")]
    public MatchingInitialization Initialization { get; set; } = MatchingInitialization.Real;

    /// <summary>Channels of every convolution of the ConvNet.</summary>
    [Range(1, int.MaxValue), Description("Channels of every convolution of the ConvNet (the papers' 128).")]
    public int Width { get; set; } = 128;

    /// <summary>Conv blocks of the ConvNet.</summary>
    [Range(1, int.MaxValue), Description("Conv blocks of the ConvNet, each closed by a 2×2 average pool (the papers' 3).")]
    public int Depth { get; set; } = 3;

    /// <summary>Normalisation after each convolution.</summary>
    [Description("Normalisation after each convolution: instance (the papers') or none.")]
    public MatchingNorm Norm { get; set; } = MatchingNorm.Instance;

    /// <summary>Evaluate the synthetic set every this many iterations (0: only at the end).</summary>
    [Range(0, int.MaxValue), Description("Evaluate the synthetic set every this many iterations (0: only at the end).")]
    public int EvaluationInterval { get; set; } = 100;

    /// <summary>Write a checkpoint every this many iterations (0: only when stopped and at the end).</summary>
    [Range(0, int.MaxValue), Description("Write a checkpoint every this many iterations (0: only when stopped and at the end).")]
    public int CheckpointInterval { get; set; } = 100;
}

/// <summary>
/// The options of gradient matching, <c>dc</c> and <c>dsa</c> (Zhao, Mopuri &amp; Bilen, ICLR 2021): per iteration
/// <see cref="ResolvedLoops"/> image updates, with <see cref="MatchingOptions.Iterations"/> 1000 and an image learning
/// rate of 0.1 by default.
/// </summary>
public abstract class GradientMatchingOptions : MatchingOptions
{
    /// <summary>The paper's (outer loop, inner loop) for 1, 10, 20, 30, 40 and 50 images per class (DC's <c>get_loops</c>).</summary>
    private static readonly (int ImagesPerClass, int Outer, int Inner)[] PaperLoops =
        [(1, 1, 1), (10, 10, 50), (20, 20, 25), (30, 30, 20), (40, 40, 15), (50, 50, 10)];

    /// <summary>DC's defaults: 1000 iterations, image learning rate 0.1.</summary>
    protected GradientMatchingOptions()
    {
        Iterations = 1000;
        ImageLearningRate = 0.1;
    }

    /// <summary>Image updates per iteration (null: the paper's for the nearest images-per-class setting).</summary>
    [Range(1, int.MaxValue), Description("Image updates per iteration, with network training between them; null: the paper's for the nearest of 1, 10, 20, 30, 40, 50 images per class (1, 10, 20, 30, 40, 50; a tie goes to the smaller).")]
    public int? OuterLoop { get; set; }

    /// <summary>Passes over the synthetic set that train the network between two image updates (null: the paper's).</summary>
    [Range(0, int.MaxValue), Description("Passes (epochs) over the synthetic set that train the network between two image updates; null: the paper's for the nearest of 1, 10, 20, 30, 40, 50 images per class (1, 50, 25, 20, 15, 10).")]
    public int? InnerLoop { get; set; }

    /// <summary>Learning rate of the plain SGD that trains the network on the synthetic set.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Learning rate of the plain SGD (no momentum) that trains the network on the synthetic set.")]
    public double NetworkLearningRate { get; set; } = 0.01;

    /// <summary>Synthetic images per network-training step.</summary>
    [Range(1, int.MaxValue), Description("Synthetic images per network-training step (shuffled each pass; the whole set in one batch when it fits).")]
    public int TrainBatchSize { get; set; } = 256;

    /// <summary>
    /// The (outer, inner) loop counts: the options when set, else the paper's for the nearest images-per-class setting
    /// (1 → (1, 1), 10 → (10, 50), 20 → (20, 25), 30 → (30, 20), 40 → (40, 15), 50 → (50, 10); a tie goes to the smaller
    /// setting, above 50 the 50's).
    /// </summary>
    public (int Outer, int Inner) ResolvedLoops()
    {
        var nearest = PaperLoops.MinBy(p => Math.Abs(p.ImagesPerClass - ImagesPerClass));
        return (OuterLoop ?? nearest.Outer, InnerLoop ?? nearest.Inner);
    }
}

/// <summary>The options of <see cref="DcAlgorithm"/> (manifest <c>algorithm.options</c>): gradient matching without augmentation.</summary>
public sealed class DcOptions : GradientMatchingOptions
{
}

/// <summary>The options of <see cref="DsaAlgorithm"/> (manifest <c>algorithm.options</c>): gradient matching with Siamese augmentation.</summary>
public sealed class DsaOptions : GradientMatchingOptions, IValidatableOptions
{
    /// <summary>The DSA strategy: families joined by <c>_</c>.</summary>
    [Description("The differentiable Siamese augmentation strategy: families (color, crop, cutout, flip, scale, rotate) joined by _; one family is drawn per use.")]
    public string Augmentation { get => _augmentation; set => _augmentation = AugmentationOption.Canonical(value)!; } // none: null, refused by Validate
    private string _augmentation = DifferentiableAugmentation.DsaStrategy;

    /// <summary>The parsed strategy.</summary>
    /// <exception cref="OptionException">Not a strategy (an unknown or repeated family, or empty).</exception>
    public DifferentiableAugmentation ParseAugmentation() =>
        AugmentationOption.Parse(nameof(Augmentation), Augmentation, allowNone: false)!;

    /// <inheritdoc/>
    public IEnumerable<(string Option, string Message)> Validate() => Augmentation is null
        ? [(nameof(Augmentation), "dsa needs an augmentation; without one, use the algorithm dc")]
        : AugmentationOption.Problems(nameof(Augmentation), Augmentation, allowNone: false);
}

/// <summary>
/// The options of <see cref="DmAlgorithm"/> (manifest <c>algorithm.options</c>): distribution matching (Zhao &amp;
/// Bilen, WACV 2023), with <see cref="MatchingOptions.Iterations"/> 20000 and an image learning rate of 1 by default.
/// </summary>
public sealed class DmOptions : MatchingOptions, IValidatableOptions
{
    /// <summary>DM's defaults: 20000 iterations, image learning rate 1.</summary>
    public DmOptions()
    {
        Iterations = 20000;
        ImageLearningRate = 1.0;
    }

    /// <summary>The DSA strategy applied to both batches, or <c>none</c> (or null) for none.</summary>
    [Description("The differentiable Siamese augmentation applied alike to each class's real and synthetic batch: families (color, crop, cutout, flip, scale, rotate) joined by _, or none (or null) for no augmentation.")]
    public string? Augmentation { get => _augmentation; set => _augmentation = AugmentationOption.Canonical(value); }
    private string? _augmentation = DifferentiableAugmentation.DsaStrategy;

    /// <summary>The parsed strategy, or null for <c>none</c>.</summary>
    /// <exception cref="OptionException">Not a strategy nor <c>none</c>.</exception>
    public DifferentiableAugmentation? ParseAugmentation() => AugmentationOption.Parse(nameof(Augmentation), Augmentation, allowNone: true);

    /// <inheritdoc/>
    public IEnumerable<(string Option, string Message)> Validate() => AugmentationOption.Problems(nameof(Augmentation), Augmentation, allowNone: true);
}
