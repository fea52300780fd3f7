using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Baselines.Coresets;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Baselines;

/// <summary>
/// Coreset baseline: per class, k-center greedy in the preprocessed pixel space (Euclidean), from a first centre
/// drawn at random with the run's generator. Spreads the kept images over the class rather than at its mode.
/// </summary>
[ExportAlgorithm("kcenter", Description = "k-center greedy coreset of real images per class (pixel space), one-hot labels.")]
public sealed class KCenterCoreset : IDistillationAlgorithm<CoresetOptions>
{
    public SupportSet Distill(DistillationContext run, CoresetOptions options) =>
        PerClassCoreset.Build(run, options, "kcenter", (points, count, generator) =>
        {
            using var first = randint(points.shape[0], [1], dtype: int64, generator: generator);
            return KCenterGreedy.Select(points, count, first.item<long>());
        });
}
