using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace DistilleryPlugin1;

/// <summary>
/// A dataset loader: labelled images from two text files, <c>train.csv</c> and <c>test.csv</c>, in the folder
/// <see cref="CsvDatasetOptions.Path"/> names. Each line is a class name followed by the C·H·W pixel values of one
/// image (channel by channel, rows top to bottom), comma-separated; empty lines and lines starting with # are skipped.
/// </summary>
[ExportDataset("plugin-name-here", Description = "Images from train.csv and test.csv: a class name, then the C*H*W pixel values of one image per line.")]
public sealed class CsvDataset : IDatasetLoader<CsvDatasetOptions>
{
    /// <summary>Reads both files.</summary>
    /// <param name="run">The run: its logger and cancellation token.</param>
    /// <param name="options">The manifest's <c>dataset.options</c>, already validated.</param>
    /// <returns>
    /// Images float32 [N, C, H, W] scaled to [0, 1] and labels int64 [N], on the CPU (the host moves them to the run's
    /// device and owns them). The classes are the training file's class names, sorted ordinally.
    /// </returns>
    /// <exception cref="DataFormatException">A file is missing or a line is malformed; the message names the file and line.</exception>
    public DatasetSplits Load(RunContext run, CsvDatasetOptions options)
    {
        var folder = Folder(options);
        var train = CsvImageFile.Read(Path.Combine(folder, "train.csv"), options, classNames: null, run.Cancellation);
        var test = CsvImageFile.Read(Path.Combine(folder, "test.csv"), options, train.ClassNames, run.Cancellation);
        run.Logger.LogInformation("Loaded {Folder}: {Train} training and {Test} test images of {Channels}x{Height}x{Width}, {Classes} classes",
            folder, train.Count, test.Count, options.Channels, options.Height, options.Width, train.ClassCount);
        return new DatasetSplits($"CSV images in {folder}", train, test);
    }

    /// <summary>
    /// What <c>distillery validate</c> runs: both files exist and their first image line has the right number of
    /// values; reads no more.
    /// </summary>
    /// <exception cref="DataFormatException">A file is missing or its first line is malformed.</exception>
    public void Check(CsvDatasetOptions options)
    {
        var folder = Folder(options);
        foreach (var file in new[] { "train.csv", "test.csv" })
            CsvImageFile.CheckFirstLine(Path.Combine(folder, file), options);
    }

    private static string Folder(CsvDatasetOptions options) => string.IsNullOrWhiteSpace(options.Path)
        ? throw new DistilleryException("dataset 'plugin-name-here': set dataset.options.path to the folder holding train.csv and test.csv")
        : Path.GetFullPath(options.Path);
}
