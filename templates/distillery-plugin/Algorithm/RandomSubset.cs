using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;

namespace DistilleryPlugin1;

/// <summary>
/// A distillation algorithm: keeps a class-balanced random subset of the real training images, with the one-hot
/// minus 1/C regression targets the kernel-ridge methods use. The starting point to replace with your method: the
/// host binds and validates <see cref="RandomSubsetOptions"/>, calls <see cref="Distill"/> once, checks that the
/// returned set is finite and hands it to every evaluator of the manifest.
/// </summary>
[ExportAlgorithm("plugin-name-here", Description = "Class-balanced random real images with one-hot labels.")]
public sealed class RandomSubset : IDistillationAlgorithm<RandomSubsetOptions>
{
    /// <summary>
    /// Draws <see cref="RandomSubsetOptions.ImagesPerClass"/> images of every class from the preprocessed training set.
    /// </summary>
    /// <param name="run">The run: <c>Train</c> (images [N, C, H, W] on <c>run.Device</c>, labels int64 [N]), seed, dtype, logger.</param>
    /// <param name="options">The manifest's <c>algorithm.options</c>, already validated.</param>
    /// <returns>
    /// Images [n, C, H, W] in <c>run.DType</c> on <c>run.Device</c>, grouped by class; targets [n, classes]; classes
    /// int64 [n]. The host owns the returned tensors.
    /// </returns>
    /// <exception cref="Distillery.Abstractions.DistilleryException">A class has fewer images than asked for (exit 2, the message names it).</exception>
    public SupportSet Distill(DistillationContext run, RandomSubsetOptions options)
    {
        // Every random draw comes from a generator derived from the manifest seed and a purpose of this plugin's own,
        // so the same manifest gives the same support set and a resumed run draws what an uninterrupted one did.
        using var generator = run.CreateGenerator("plugin-name-here.support");
        var chosen = run.Train.Select(run.Train.SampleClassBalanced(options.ImagesPerClass, generator));
        var targets = RegressionTargets.Encode(chosen.Labels, run.Train.ClassCount, run.DType, run.Device);
        return new SupportSet(chosen.Images.to(run.DType), targets, chosen.Labels);
    }
}
