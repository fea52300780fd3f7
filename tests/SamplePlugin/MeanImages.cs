using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using static TorchSharp.torch;

namespace Distillery.SamplePlugin;

/// <summary>Each support image is the average of a few random real images of its class.</summary>
[ExportAlgorithm("mean-images", Description = "Each support image averages PoolSize random real images of its class.")]
public sealed class MeanImages : IDistillationAlgorithm<MeanImagesOptions>
{
    public SupportSet Distill(DistillationContext run, MeanImagesOptions options)
    {
        using var generator = run.CreateGenerator("mean-images");
        var drawn = run.Train.Select(run.Train.SampleClassBalanced(options.ImagesPerClass * options.PoolSize, generator));
        // Drawn images come grouped by class, so consecutive groups of PoolSize share a class.
        var shape = drawn.Images.shape;
        var images = drawn.Images.reshape(-1, options.PoolSize, shape[1], shape[2], shape[3]).mean([1]).to(run.DType);
        var classes = drawn.Labels.reshape(-1, options.PoolSize).select(1, 0);
        return new SupportSet(images, RegressionTargets.Encode(classes, run.Train.ClassCount, run.DType, run.Device), classes);
    }
}

public sealed class MeanImagesOptions
{
    [Range(1, int.MaxValue), Description("Support images per class.")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(1, 1000), Description("Real images averaged into each support image.")]
    public int PoolSize { get; set; } = 5;
}
