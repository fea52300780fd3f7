using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Manifests;
using Distillery.Abstractions.Runs;

namespace Distillery.Engine.Runs;

/// <summary>
/// Holds a validation split out of the training set (the manifest's <c>validation</c> section), so that a recipe is
/// tuned without touching the test set: the same number of images from every class, drawn with the run seed, taken
/// out before preprocessing is fitted. The algorithm is handed only the rest; the evaluators score on the split.
/// </summary>
public static class ValidationSplit
{
    /// <summary>The generator purpose of the draw (see <see cref="RunContext.CreateGenerator"/>): one split per seed.</summary>
    public const string Purpose = "validation-split";

    /// <summary>
    /// The training images left for the algorithm (in their original order) and the held-out validation images
    /// (grouped by class), both on <paramref name="train"/>'s device, new tensors the caller owns.
    /// </summary>
    /// <exception cref="DistilleryException">The size is not a multiple of the class count, or would leave a class no
    /// training image; the message names <c>validation.images</c> and the largest size allowed.</exception>
    public static (ImageSet Train, ImageSet Validation) Apply(ImageSet train, ValidationSection validation, RunContext context)
    {
        var classes = train.ClassCount;
        var sampler = new ClassBalancedSampler(train);
        var smallest = sampler.SmallestClassSize;
        var largest = (long)(smallest - 1) * classes; // every class keeps one training image
        var allowed = smallest > 1
            ? $"a multiple of the {classes} classes from {classes} to {largest} ({smallest - 1} per class: the smallest class has {smallest} training images, and keeps one)"
            : $"none: the smallest class has a single training image";
        if (validation.Images % classes != 0 || validation.Images / classes >= smallest)
            throw new DistilleryException($"validation.images: must be {allowed}; got {validation.Images} of {train.Count} training images");

        using var generator = context.CreateGenerator(Purpose);
        var held = sampler.Sample(validation.Images / classes, generator);
        var isHeld = new bool[train.Count];
        foreach (var index in held) isHeld[index] = true;
        var kept = Enumerable.Range(0, train.Count).Where(i => !isHeld[i]).Select(i => (long)i).ToArray();
        return (train.Select(kept), train.Select(held));
    }

    /// <summary>
    /// Evaluators name their figures after the test set (<c>testAccuracy</c>, <c>testLoss</c>, <c>testCount</c>);
    /// measured on the validation split they are renamed <c>validationAccuracy</c>, … so that metrics.json, progress,
    /// TensorBoard and results tables never pass a validation figure off as a test one. Other names are kept.
    /// </summary>
    public static IReadOnlyDictionary<string, double> NameFigures(IReadOnlyDictionary<string, double> figures) =>
        figures.ToDictionary(f => IsTestFigure(f.Key) ? "validation" + f.Key[4..] : f.Key, f => f.Value);

    /// <summary>test followed by a capitalised word (testAccuracy), or just "test".</summary>
    private static bool IsTestFigure(string name) =>
        name.StartsWith("test", StringComparison.Ordinal) && (name.Length == 4 || char.IsUpper(name[4]));
}
