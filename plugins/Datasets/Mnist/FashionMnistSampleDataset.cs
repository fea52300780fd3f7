using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Datasets;

/// <summary>Options of the embedded sample: only the split limits (the data is fixed).</summary>
public sealed class FashionMnistSampleOptions : SplitLimitOptions;

/// <summary>
/// A class-balanced sample of Fashion-MNIST shipped inside this assembly (500 train and 100 test images per
/// class; see EmbeddedData/README.md), so that the quickstart runs anywhere with no download.
/// </summary>
[ExportDataset("fashion-mnist-sample", Description = "Class-balanced Fashion-MNIST sample embedded in the plugin (5,000 train / 1,000 test images, 500/100 per class); needs no files.")]
public sealed class FashionMnistSampleDataset : IDatasetLoader<FashionMnistSampleOptions>
{
    /// <summary>Manifest resource names are this prefix plus the MNIST file name plus ".gz".</summary>
    public const string ResourcePrefix = "Distillery.Datasets.EmbeddedData.";

    /// <summary>The embedded files as an <see cref="IIdxSource"/>.</summary>
    public static IIdxSource Source { get; } =
        new EmbeddedIdxSource(typeof(FashionMnistSampleDataset).Assembly, ResourcePrefix, "fashion-mnist-sample");

    public DatasetSplits Load(RunContext run, FashionMnistSampleOptions options)
    {
        var (train, test) = MnistFamilyReader.Read(Source, ClassNames.FashionMnist, options.TrainLimit, options.TestLimit);
        run.Logger.LogInformation("Loaded the embedded Fashion-MNIST sample: {Train} train and {Test} test images of {Height}x{Width}, {Classes} classes",
            train.Count, test.Count, train.Height, train.Width, train.ClassCount);
        return new DatasetSplits("Fashion-MNIST class-balanced sample (embedded; MIT, Copyright 2017 Zalando SE)", train, test);
    }

    public void Check(FashionMnistSampleOptions options) => MnistFamilyReader.Check(Source);
}
