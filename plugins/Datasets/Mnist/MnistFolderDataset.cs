using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Datasets;

/// <summary>
/// A dataset in the MNIST layout read from a folder; the concrete plugins differ only in name, class
/// names and default folder.
/// </summary>
public abstract class MnistFolderDataset<TOptions> : IDatasetLoader<TOptions> where TOptions : MnistFolderOptions, new()
{
    /// <summary>The manifest name, used in messages.</summary>
    protected abstract string Name { get; }

    /// <summary>The human name, used in descriptions and logs.</summary>
    protected abstract string DisplayName { get; }

    protected abstract IReadOnlyList<string> Classes { get; }

    public DatasetSplits Load(RunContext run, TOptions options)
    {
        var source = Source(options);
        var (train, test) = MnistFamilyReader.Read(source, Classes, options.TrainLimit, options.TestLimit);
        run.Logger.LogInformation("Loaded {Dataset} from {Folder}: {Train} train and {Test} test images of {Height}x{Width}, {Classes} classes",
            DisplayName, source.Location, train.Count, test.Count, train.Height, train.Width, train.ClassCount);
        return new DatasetSplits($"{DisplayName} from {source.Location}", train, test);
    }

    public void Check(TOptions options) => MnistFamilyReader.Check(Source(options));

    private FolderIdxSource Source(TOptions options) => new(DatasetFolder.Require(options.Path, Name, MnistLayout.Listing));
}

[ExportDataset("fashion-mnist", Description = "Fashion-MNIST (Zalando, 60k/10k 28x28 grey clothing images) from a folder in the IDX layout, raw or gzipped.")]
public sealed class FashionMnistDataset : MnistFolderDataset<FashionMnistOptions>
{
    protected override string Name => "fashion-mnist";
    protected override string DisplayName => "Fashion-MNIST";
    protected override IReadOnlyList<string> Classes => ClassNames.FashionMnist;
}

[ExportDataset("mnist", Description = "MNIST handwritten digits (60k/10k 28x28) from a folder in the IDX layout, raw or gzipped.")]
public sealed class MnistDataset : MnistFolderDataset<MnistFolderOptions>
{
    protected override string Name => "mnist";
    protected override string DisplayName => "MNIST";
    protected override IReadOnlyList<string> Classes => ClassNames.Mnist;
}

[ExportDataset("kmnist", Description = "Kuzushiji-MNIST (60k/10k 28x28 cursive hiragana, 10 classes) from a folder in the IDX layout, raw or gzipped.")]
public sealed class KmnistDataset : MnistFolderDataset<MnistFolderOptions>
{
    protected override string Name => "kmnist";
    protected override string DisplayName => "KMNIST";
    protected override IReadOnlyList<string> Classes => ClassNames.Kmnist;
}
