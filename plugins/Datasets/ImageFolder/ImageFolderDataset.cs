using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Datasets;

/// <summary>Any labelled image collection laid out as one sub-folder per class (ImageNet / torchvision ImageFolder style).</summary>
[ExportDataset("image-folder", Description = "PNG/JPEG images in train/<class>/ and test/<class>/ folders, resized (shorter side, area averaging) and centre-cropped to size x size; EXIF orientation applied, 16-bit PNGs reduced to 8 bits; cut or damaged files (strict PNG and JPEG checks) follow onBadFile.")]
public sealed class ImageFolderDataset : IDatasetLoader<ImageFolderOptions>
{
    public DatasetSplits Load(RunContext run, ImageFolderOptions options)
    {
        var root = Root(options);
        var (train, test) = ImageFolderReader.Read(root, options, run.Logger, run.Cancellation);
        run.Logger.LogInformation("Loaded image folder {Folder}: {Train} train and {Test} test images of {Channels}x{Size}x{Size2}, {Classes} classes",
            root, train.Count, test.Count, options.Channels, options.Size, options.Size, train.ClassCount);
        return new DatasetSplits($"image folder {root} ({options.Size}x{options.Size}, {options.Channels} channel{(options.Channels > 1 ? "s" : "")})", train, test);
    }

    public void Check(ImageFolderOptions options) => ImageFolderReader.Check(Root(options), options);

    private static string Root(ImageFolderOptions options) => DatasetFolder.Require(options.Path, "image-folder", ImageFolderReader.Layout);
}
