using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Baselines.Coresets;

namespace Distillery.Baselines;

/// <summary>
/// Coreset baseline: per class, herding in the preprocessed pixel space — the kept images' mean tracks the class
/// mean as closely as possible. Deterministic given the candidate pool.
/// </summary>
[ExportAlgorithm("herding", Description = "Herding coreset of real images per class (pixel space, matches the class mean), one-hot labels.")]
public sealed class HerdingCoreset : IDistillationAlgorithm<CoresetOptions>
{
    public SupportSet Distill(DistillationContext run, CoresetOptions options) =>
        PerClassCoreset.Build(run, options, "herding", (points, count, _) => Herding.Select(points, count));
}
