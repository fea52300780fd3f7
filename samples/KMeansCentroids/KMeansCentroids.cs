using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace KMeansCentroids;

/// <summary>
/// A distillation algorithm: k-means on each class of the preprocessed training images, keeping the k cluster
/// centres (or the real image nearest each) with one-hot minus 1/C targets. The "k-means" baseline of dataset
/// condensation benchmarks (DC-Bench, Cui et al., NeurIPS 2022): unlike a random subset it covers each class's
/// modes, and unlike KIP it needs no kernel and no optimisation; cost O(m·k·d) per Lloyd iteration per class.
/// </summary>
[ExportAlgorithm("kmeans-centroids", Description = "Per-class k-means in pixel space: cluster centres (or the nearest real images) with one-hot labels.")]
public sealed class KMeansCentroids : IDistillationAlgorithm<KMeansCentroidsOptions>
{
    /// <summary>Clusters every class of <c>run.Train</c> into <see cref="KMeansCentroidsOptions.ImagesPerClass"/> clusters.</summary>
    /// <param name="run">The run: training images [N, C, H, W] and labels on <c>run.Device</c>, seed, dtype, logger, cancellation.</param>
    /// <param name="options">The manifest's <c>algorithm.options</c>, already validated.</param>
    /// <returns>
    /// Images [k·classes, C, H, W] in <c>run.DType</c> on <c>run.Device</c>, grouped by class; targets [n, classes];
    /// classes int64 [n]. The host owns the returned tensors.
    /// </returns>
    /// <exception cref="Distillery.Abstractions.DistilleryException">A class has fewer images than imagesPerClass (exit 2).</exception>
    public SupportSet Distill(DistillationContext run, KMeansCentroidsOptions options)
    {
        var train = run.Train;
        var k = options.ImagesPerClass;
        var smallest = new ClassBalancedSampler(train).SmallestClassSize;
        if (smallest < k)
            throw new Distillery.Abstractions.DistilleryException(
                $"algorithm.options.imagesPerClass: {k} clusters per class asked for, but the smallest class has {smallest} images");
        using var labels = train.Labels.cpu();
        var labelArray = labels.data<long>().ToArray();
        var images = new List<Tensor>(train.ClassCount);
        var iterations = new List<int>(train.ClassCount);
        try
        {
            for (var c = 0; c < train.ClassCount; c++)
            {
                using var scope = NewDisposeScope();
                var members = Enumerable.Range(0, labelArray.Length).Where(i => labelArray[i] == c).Select(i => (long)i).ToArray();
                var classImages = train.Images.index_select(0, tensor(members, device: train.Images.device)).to(run.DType);
                var points = classImages.flatten(1);
                // Each class draws from its own generator, so one class's clusters never depend on another's.
                using var generator = run.CreateGenerator("kmeans-centroids.seeding", c);
                var (centres, ran) = KMeans.Fit(points, k, options.Iterations, generator, run.Cancellation);
                iterations.Add(ran);
                var chosen = options.Output == ClusterImage.Centroid
                    ? centres.reshape([k, .. classImages.shape[1..]])
                    : classImages.index_select(0, NearestDistinct(points, centres));
                images.Add(chosen.MoveToOuterDisposeScope());
            }
            run.Logger.LogInformation("k-means: {K} clusters in each of {Classes} classes, {Min}–{Max} Lloyd iterations",
                k, train.ClassCount, iterations.Min(), iterations.Max());
            // Built from a long[]: arange would take its bounds as temporary Scalars.
            var classIndices = Enumerable.Range(0, train.ClassCount).SelectMany(c => Enumerable.Repeat((long)c, k)).ToArray();
            var classes = tensor(classIndices, device: run.Device);
            var targets = RegressionTargets.Encode(classes, train.ClassCount, run.DType, run.Device);
            return new SupportSet(cat(images, 0), targets, classes);
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    /// <summary>
    /// For each centre in turn, the nearest point not already taken, so that two centres never return the same image
    /// (a repeated support image would make kernel ridge regression's K_ss singular).
    /// </summary>
    private static Tensor NearestDistinct(Tensor points, Tensor centres)
    {
        using var scope = NewDisposeScope();
        var distances = KMeans.SquaredDistances(points, centres).cpu();          // [m, k]
        using var infinity = double.PositiveInfinity.ToScalar();
        var taken = zeros(points.shape[0], dtype: ScalarType.Bool);
        var chosen = new long[centres.shape[0]];
        for (var j = 0; j < chosen.Length; j++)
        {
            chosen[j] = distances.select(1, j).masked_fill(taken, infinity).argmin().item<long>();
            taken[chosen[j]] = true;
        }
        return tensor(chosen, device: points.device).MoveToOuterDisposeScope();
    }
}
