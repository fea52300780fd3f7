using static TorchSharp.torch;

namespace Distillery.Abstractions.Augmentation;

/// <summary>One family of Differentiable Siamese Augmentation transforms (Zhao &amp; Bilen, ICML 2021).</summary>
public enum AugmentationKind
{
    /// <summary>Brightness, then saturation, then contrast, each with its own random factor (DSA's <c>color</c>).</summary>
    Color,
    /// <summary>A random translation by up to <see cref="AugmentationSettings.CropRatio"/> of the side, the uncovered border zero (DSA's <c>crop</c>).</summary>
    Crop,
    /// <summary>A zeroed square of <see cref="AugmentationSettings.CutoutRatio"/> of the side at a random place (DSA's <c>cutout</c>).</summary>
    Cutout,
    /// <summary>A left-right mirror with probability <see cref="AugmentationSettings.FlipProbability"/> (DSA's <c>flip</c>).</summary>
    Flip,
    /// <summary>Independent random scalings of the two axes in [1/r, r], r = <see cref="AugmentationSettings.ScaleRatio"/>, bilinear (DSA's <c>scale</c>).</summary>
    Scale,
    /// <summary>A random rotation by up to ±<see cref="AugmentationSettings.RotateDegrees"/>, bilinear (DSA's <c>rotate</c>).</summary>
    Rotate,
}

/// <summary>The strengths of the transforms; the defaults are DSA's (<c>ParamDiffAug</c> of the DatasetCondensation code).</summary>
public sealed record AugmentationSettings
{
    /// <summary>Brightness: x + (u − ½) · this, u ~ U(0, 1).</summary>
    public double Brightness { get; init; } = 1.0;
    /// <summary>Saturation: m + (x − m) · u · this, m the mean over channels (no change on one channel).</summary>
    public double Saturation { get; init; } = 2.0;
    /// <summary>Contrast: m + (x − m) · (u + this), m the image's mean.</summary>
    public double Contrast { get; init; } = 0.5;
    /// <summary>Largest translation as a fraction of the side.</summary>
    public double CropRatio { get; init; } = 0.125;
    /// <summary>Side of the cutout square as a fraction of the image side.</summary>
    public double CutoutRatio { get; init; } = 0.5;
    /// <summary>Probability of the mirror.</summary>
    public double FlipProbability { get; init; } = 0.5;
    /// <summary>Largest scale factor r (scales drawn in [1/r, r]).</summary>
    public double ScaleRatio { get; init; } = 1.2;
    /// <summary>Largest rotation angle, in degrees.</summary>
    public double RotateDegrees { get; init; } = 15.0;
}

/// <summary>
/// Differentiable Siamese Augmentation (Zhao &amp; Bilen, "Dataset Condensation with Differentiable Siamese
/// Augmentation", ICML 2021): each call of <see cref="Sample"/> picks one of the strategy's families uniformly, as DSA
/// does, and draws its random parameters from a generator; the resulting <see cref="AugmentationTransform"/> is
/// differentiable in the images, so gradients reach synthetic images through it. Two samples from generators in the
/// same state are the same transform: sample once (or twice with the same seed) and apply it to the real batch and the
/// synthetic batch alike (Siamese). Immutable and thread-safe.
/// </summary>
public sealed class DifferentiableAugmentation
{
    /// <summary>DSA's strategy for colour images: <c>color_crop_cutout_flip_scale_rotate</c>.</summary>
    public const string DsaStrategy = "color_crop_cutout_flip_scale_rotate";

    /// <summary>An augmentation drawing from <paramref name="kinds"/> (each once, in the order given) with <paramref name="settings"/>.</summary>
    /// <param name="kinds">The families; at least one, no repeats.</param>
    /// <param name="settings">The strengths; null for DSA's.</param>
    /// <exception cref="ArgumentException">No family, or one listed twice.</exception>
    public DifferentiableAugmentation(IEnumerable<AugmentationKind> kinds, AugmentationSettings? settings = null)
    {
        Kinds = kinds.ToArray();
        Settings = settings ?? new AugmentationSettings();
        throw new NotImplementedException();
    }

    /// <summary>The families, in the strategy's order.</summary>
    public IReadOnlyList<AugmentationKind> Kinds { get; }

    /// <summary>The strengths.</summary>
    public AugmentationSettings Settings { get; }

    /// <summary>The strategy string: the families' names in lower case joined by <c>_</c>, e.g. <c>crop_scale_rotate</c>.</summary>
    public string Strategy => throw new NotImplementedException();

    /// <summary>
    /// The augmentation of a DSA strategy string: family names (<c>color</c>, <c>crop</c>, <c>cutout</c>, <c>flip</c>,
    /// <c>scale</c>, <c>rotate</c>, any case) joined by <c>_</c>.
    /// </summary>
    /// <param name="strategy">E.g. <see cref="DsaStrategy"/>.</param>
    /// <param name="settings">The strengths; null for DSA's.</param>
    /// <exception cref="FormatException">An empty strategy, an unknown family (the message lists the allowed ones) or a repeated one.</exception>
    public static DifferentiableAugmentation Parse(string strategy, AugmentationSettings? settings = null) => throw new NotImplementedException();

    /// <summary>
    /// Draws one transform: picks a family uniformly, then its parameters, for <paramref name="count"/> images — one set
    /// of parameters per image, or, with <paramref name="count"/> 1, one set shared by every image of any batch it is
    /// applied to (the Siamese use: real and synthetic batches of different sizes get the same transform).
    /// </summary>
    /// <param name="generator">A CPU generator (<see cref="Runs.RunContext.CreateGenerator"/>); it advances by the draws.
    /// The same generator state always gives the same transform.</param>
    /// <param name="count">1 (shared), or the size of the batch it will be applied to.</param>
    /// <returns>The transform; it owns its parameter tensors (CPU) and the caller disposes it.</returns>
    public AugmentationTransform Sample(Generator generator, long count = 1) => throw new NotImplementedException();
}

/// <summary>
/// One drawn transform of a <see cref="DifferentiableAugmentation"/>: a family and its parameters, applied by
/// <see cref="Apply"/> to any number of batches. Owns its parameter tensors; dispose it.
/// </summary>
public sealed class AugmentationTransform : IDisposable
{
    private AugmentationTransform() { }

    /// <summary>The family drawn.</summary>
    public AugmentationKind Kind { get; }

    /// <summary>Images with their own parameters: 1 when one set is shared by a whole batch.</summary>
    public long Count { get; }

    /// <summary>
    /// The transformed images: [n, C, H, W] in, the same shape, dtype and device out, a differentiable function of
    /// <paramref name="images"/> (crop, cutout and flip move or zero pixels; scale and rotate resample bilinearly with zero
    /// padding; colour is affine per image). The input is not changed; the caller owns the result.
    /// </summary>
    /// <param name="images">[n, C, H, W], float32 or float64, any device; n must equal <see cref="Count"/> unless it is 1.</param>
    /// <exception cref="ArgumentException">Not a 4-dimensional batch, or n differs from a <see cref="Count"/> above 1.</exception>
    public Tensor Apply(Tensor images) => throw new NotImplementedException();

    /// <summary>Frees the parameter tensors.</summary>
    public void Dispose() { }
}
