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
    /// <exception cref="ArgumentException">No family, or one listed twice; or a strength that is not finite, a negative
    /// one, a ratio or probability above 1, or a scale ratio below 1.</exception>
    public DifferentiableAugmentation(IEnumerable<AugmentationKind> kinds, AugmentationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        var list = kinds.ToArray();
        if (list.Length == 0) throw new ArgumentException($"an augmentation needs at least one family; allowed: {AllowedFamilies}", nameof(kinds));
        foreach (var kind in list)
            if (!Enum.IsDefined(kind)) throw new ArgumentException($"{(int)kind} is not an augmentation family; allowed: {AllowedFamilies}", nameof(kinds));
        if (list.GroupBy(k => k).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new ArgumentException($"the family {Name(repeated.Key)} is listed twice", nameof(kinds));
        Kinds = Array.AsReadOnly(list);
        Settings = settings ?? new AugmentationSettings();
        Check(Settings);
    }

    /// <summary>The families, in the strategy's order.</summary>
    public IReadOnlyList<AugmentationKind> Kinds { get; }

    /// <summary>The strengths.</summary>
    public AugmentationSettings Settings { get; }

    /// <summary>The strategy string: the families' names in lower case joined by <c>_</c>, e.g. <c>crop_scale_rotate</c>.</summary>
    public string Strategy => string.Join('_', Kinds.Select(Name));

    /// <summary>
    /// The augmentation of a DSA strategy string: family names (<c>color</c>, <c>crop</c>, <c>cutout</c>, <c>flip</c>,
    /// <c>scale</c>, <c>rotate</c>, any case) joined by <c>_</c>.
    /// </summary>
    /// <param name="strategy">E.g. <see cref="DsaStrategy"/>.</param>
    /// <param name="settings">The strengths; null for DSA's.</param>
    /// <exception cref="FormatException">An empty strategy, an unknown family (the message lists the allowed ones) or a repeated one.</exception>
    /// <exception cref="ArgumentException">A strength of <paramref name="settings"/> out of its range (see the constructor).</exception>
    public static DifferentiableAugmentation Parse(string strategy, AugmentationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        if (string.IsNullOrWhiteSpace(strategy))
            throw new FormatException($"the augmentation strategy is empty; it names families joined by _ (e.g. {DsaStrategy}); allowed: {AllowedFamilies}");
        var kinds = new List<AugmentationKind>();
        foreach (var part in strategy.Split('_'))
        {
            if (!ByName.TryGetValue(part, out var kind))
                throw new FormatException($"unknown augmentation family '{part}' in '{strategy}'; allowed: {AllowedFamilies}, joined by _");
            if (kinds.Contains(kind))
                throw new FormatException($"the augmentation family {Name(kind)} appears twice in '{strategy}'; allowed: {AllowedFamilies}, each once");
            kinds.Add(kind);
        }
        return new DifferentiableAugmentation(kinds, settings);
    }

    /// <summary>The family names a strategy may use, in the enum's order: <c>color, crop, cutout, flip, scale, rotate</c>.</summary>
    public static string AllowedFamilies => string.Join(", ", Enum.GetValues<AugmentationKind>().Select(Name));

    /// <summary>
    /// Draws one transform: picks a family uniformly, then its parameters, for <paramref name="count"/> images — one set
    /// of parameters per image, or, with <paramref name="count"/> 1, one set shared by every image of any batch it is
    /// applied to (the Siamese use: real and synthetic batches of different sizes get the same transform).
    /// </summary>
    /// <param name="generator">A CPU generator (<see cref="Runs.RunContext.CreateGenerator"/>); it advances by the draws.
    /// The same generator state always gives the same transform.</param>
    /// <param name="count">1 (shared), or the size of the batch it will be applied to.</param>
    /// <returns>The transform; it owns its parameter tensors (CPU) and the caller disposes it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    public AugmentationTransform Sample(Generator generator, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var scope = NewDisposeScope();
        // As DSA's single mode: the family first, then each of its quantities for every image, one quantity after another.
        var kind = Kinds[(int)randint(0, Kinds.Count, [1], generator: generator).item<long>()];
        var quantities = Enumerable.Range(0, AugmentationTransform.DrawsPerImage(kind))
            .Select(_ => rand([count], ScalarType.Float64, generator: generator).data<double>().ToArray()).ToArray();
        var draws = new double[count][];
        for (var i = 0; i < count; i++) draws[i] = quantities.Select(q => q[i]).ToArray();
        return new AugmentationTransform(kind, draws, Settings);
    }

    private static readonly Dictionary<string, AugmentationKind> ByName =
        Enum.GetValues<AugmentationKind>().ToDictionary(Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>A family's name in a strategy string.</summary>
    private static string Name(AugmentationKind kind) => kind.ToString().ToLowerInvariant();

    private static void Check(AugmentationSettings settings)
    {
        static void Require(bool valid, string setting, double value, string rule)
        {
            if (!valid) throw new ArgumentException($"augmentation setting {setting} is {value}; it must be {rule}", nameof(settings));
        }
        static bool NonNegative(double value) => double.IsFinite(value) && value >= 0;
        Require(NonNegative(settings.Brightness), nameof(settings.Brightness), settings.Brightness, "finite and non-negative");
        Require(NonNegative(settings.Saturation), nameof(settings.Saturation), settings.Saturation, "finite and non-negative");
        Require(NonNegative(settings.Contrast), nameof(settings.Contrast), settings.Contrast, "finite and non-negative");
        Require(NonNegative(settings.CropRatio) && settings.CropRatio <= 1, nameof(settings.CropRatio), settings.CropRatio, "in [0, 1]");
        Require(NonNegative(settings.CutoutRatio) && settings.CutoutRatio <= 1, nameof(settings.CutoutRatio), settings.CutoutRatio, "in [0, 1]");
        Require(NonNegative(settings.FlipProbability) && settings.FlipProbability <= 1, nameof(settings.FlipProbability), settings.FlipProbability, "in [0, 1]");
        Require(double.IsFinite(settings.ScaleRatio) && settings.ScaleRatio >= 1, nameof(settings.ScaleRatio), settings.ScaleRatio, "finite and at least 1");
        Require(NonNegative(settings.RotateDegrees), nameof(settings.RotateDegrees), settings.RotateDegrees, "finite and non-negative");
    }
}
