using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Baselines.Coresets;

/// <summary>
/// Runs a selection rule on each class separately — on the flattened preprocessed images of a candidate pool —
/// and returns the chosen real images, grouped by class, with one-hot minus 1/C targets (as <c>natural</c>).
/// Every class draws from its own generators, so one class's choice never depends on another's.
/// </summary>
public static class PerClassCoreset
{
    /// <param name="select">Picks <c>count</c> rows of the pool's points [m, d], given the class's generator.</param>
    public static SupportSet Build(DistillationContext run, CoresetOptions options, string algorithm,
                                   Func<Tensor, int, Generator, long[]> select)
    {
        var train = run.Train;
        var membersByClass = MembersByClass(train);
        var chosen = new List<long>(options.ImagesPerClass * train.ClassCount);
        for (var c = 0; c < train.ClassCount; c++)
        {
            run.Cancellation.ThrowIfCancellationRequested();
            var pool = CandidatePool(run, options, algorithm, membersByClass[c], c);
            if (pool.Length < options.ImagesPerClass)
                throw new OptionException(nameof(options.ImagesPerClass),
                    $"{options.ImagesPerClass} per class asked for, but class '{train.ClassNames[c]}' offers {pool.Length} candidates");
            using var scope = NewDisposeScope();
            using var generator = run.CreateGenerator($"{algorithm}.select", c);
            var points = train.Images.index_select(0, tensor(pool, device: train.Images.device)).flatten(1).to(run.DType);
            chosen.AddRange(select(points, options.ImagesPerClass, generator).Select(i => pool[i]));
        }
        var support = train.Select(chosen.ToArray());
        var targets = RegressionTargets.Encode(support.Labels, train.ClassCount, run.DType, run.Device);
        return new SupportSet(support.Images.to(run.DType), targets, support.Labels);
    }

    private static long[][] MembersByClass(ImageSet set)
    {
        var labels = set.Labels.cpu().data<long>().ToArray();
        return Enumerable.Range(0, set.ClassCount)
            .Select(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Select(i => (long)i).ToArray())
            .ToArray();
    }

    /// <summary>The whole class, or a random subset of it (from the class's own generator) when the pool is smaller.</summary>
    private static long[] CandidatePool(RunContext run, CoresetOptions options, string algorithm, long[] members, int classIndex)
    {
        if (options.CandidatePoolSize is not { } size || size >= members.Length) return members;
        using var generator = run.CreateGenerator($"{algorithm}.candidates", classIndex);
        using var order = randperm(members.Length, generator: generator);
        return order.data<long>().Take(size).Select(i => members[i]).ToArray();
    }
}
