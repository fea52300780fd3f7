using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace DistilleryPlugin1;

/// <summary>
/// An evaluator: the test accuracy of the k-nearest-neighbour classifier whose only training data is the support set
/// (Euclidean distance in the preprocessed space, majority vote of the k nearest support images' classes, a tie going to
/// the lowest class index). Kernel-free, so it scores a support set without the assumptions of the run's kernel.
/// </summary>
[ExportEvaluator("plugin-name-here", Description = "k-nearest-neighbour test accuracy with the support set as the only training data.")]
public sealed class NearestNeighbourEvaluator : IEvaluator<NearestNeighbourOptions>
{
    /// <summary>Classifies every test image (or validation image, when the manifest holds some out) and counts the hits.</summary>
    /// <param name="evaluation">The support set (images [n, C, H, W], classes int64 [n]) and the preprocessed test set, on the run's device.</param>
    /// <param name="options">The manifest's options for this evaluator, already validated.</param>
    /// <returns>
    /// <c>testAccuracy</c> (a fraction) and <c>testCount</c>. The host reports them under this evaluator's name in
    /// metrics.json, progress.jsonl and TensorBoard (as <c>validation…</c> when the manifest holds a validation split).
    /// </returns>
    /// <exception cref="DistilleryException">More neighbours asked for than the support set holds.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, NearestNeighbourOptions options)
    {
        var support = evaluation.Support;
        var test = evaluation.Test;
        if (options.Neighbours > support.Count)
            throw new DistilleryException(
                $"evaluator 'plugin-name-here': options.neighbours is {options.Neighbours} but the support set holds {support.Count} images; lower it");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var supportPoints = support.Images.flatten(1);
        var supportVotes = nn.functional.one_hot(support.Classes.to(supportPoints.device), test.ClassCount).to(ScalarType.Float32);
        long correct = 0;
        for (long start = 0; start < test.Count; start += options.BlockSize)
        {
            // Periodic evaluations run between optimisation steps: stop promptly when the run is cancelled.
            evaluation.Cancellation.ThrowIfCancellationRequested();
            using var blockScope = NewDisposeScope();
            var length = Math.Min(options.BlockSize, test.Count - start);
            var points = test.Images.narrow(0, start, length).flatten(1).to(supportPoints.dtype);
            var distances = cdist(points, supportPoints);                                      // [block, n]
            var nearest = distances.topk(options.Neighbours, dim: 1, largest: false).indexes;  // [block, k]
            var votes = supportVotes.index_select(0, nearest.flatten()).reshape(length, options.Neighbours, -1).sum(1);
            var labels = test.Labels.narrow(0, start, length).to(votes.device);
            correct += votes.argmax(1).eq(labels).sum().item<long>();
        }
        return new Dictionary<string, double>
        {
            ["testAccuracy"] = (double)correct / test.Count,
            ["testCount"] = test.Count,
        };
    }
}
