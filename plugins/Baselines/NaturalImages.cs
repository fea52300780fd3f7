using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;

namespace Distillery.Baselines;

/// <summary>The baseline every table shows: a class-balanced random sample of real training images.</summary>
[ExportAlgorithm("natural", Description = "Class-balanced random real images with one-hot labels (the baseline).")]
public sealed class NaturalImages : IDistillationAlgorithm<NaturalImagesOptions>
{
    public SupportSet Distill(DistillationContext run, NaturalImagesOptions options)
    {
        using var generator = run.CreateGenerator("natural.support");
        var chosen = run.Train.Select(run.Train.SampleClassBalanced(options.ImagesPerClass, generator));
        var targets = RegressionTargets.Encode(chosen.Labels, run.Train.ClassCount, run.DType, run.Device);
        return new SupportSet(chosen.Images.to(run.DType), targets, chosen.Labels);
    }
}

public sealed class NaturalImagesOptions
{
    [Range(1, int.MaxValue), Description("Real images kept per class.")]
    public int ImagesPerClass { get; set; } = 10;
}
