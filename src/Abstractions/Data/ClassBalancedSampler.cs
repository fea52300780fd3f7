using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// Draws the same number of images from every class, without replacement. The per-class index lists are built
/// once, so drawing a fresh batch every step costs only the permutations.
/// </summary>
public sealed class ClassBalancedSampler
{
    private readonly long[][] _indicesByClass;
    private readonly IReadOnlyList<string> _classNames;

    /// <summary>Indexes the images of <paramref name="set"/> by class (reads its labels once, on the CPU).</summary>
    /// <param name="set">The set to draw from; only its labels and class names are read, and not kept.</param>
    public ClassBalancedSampler(ImageSet set)
    {
        _classNames = set.ClassNames;
        var labels = set.Labels.cpu().data<long>().ToArray();
        var byClass = Enumerable.Range(0, set.ClassCount).Select(_ => new List<long>()).ToArray();
        for (var i = 0; i < labels.Length; i++) byClass[labels[i]].Add(i);
        _indicesByClass = byClass.Select(list => list.ToArray()).ToArray();
    }

    /// <summary>The number of classes of the set.</summary>
    public int ClassCount => _indicesByClass.Length;

    /// <summary>The fewest images any class has.</summary>
    public int SmallestClassSize => _indicesByClass.Min(c => c.Length);

    /// <summary>Indices of <paramref name="perClass"/> images of each class, grouped by class in class order.</summary>
    /// <param name="perClass">Images drawn from every class.</param>
    /// <param name="generator">The CPU generator to draw with (from <see cref="Runs.RunContext.CreateGenerator"/>); advanced by one permutation per class.</param>
    /// <returns>perClass × <see cref="ClassCount"/> indices into the set: all of class 0, then class 1, ….</returns>
    /// <exception cref="DistilleryException">A class has fewer than <paramref name="perClass"/> images; the message names it.</exception>
    public long[] Sample(int perClass, Generator generator)
    {
        var chosen = new long[perClass * ClassCount];
        for (var c = 0; c < ClassCount; c++)
        {
            var members = _indicesByClass[c];
            if (members.Length < perClass)
                throw new DistilleryException(
                    $"class '{_classNames[c]}' has {members.Length} images, fewer than the {perClass} per class asked for");
            using var order = torch.randperm(members.Length, generator: generator);
            var permutation = order.data<long>();
            for (var k = 0; k < perClass; k++) chosen[c * perClass + k] = members[permutation[k]];
        }
        return chosen;
    }
}
