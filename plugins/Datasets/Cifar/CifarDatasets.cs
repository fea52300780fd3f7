using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Datasets;

/// <summary>The steps both CIFAR plugins share: check the path, read the folder, log what was loaded.</summary>
internal static class CifarLoader
{
    public static DatasetSplits Load(RunContext run, string name, CifarLayout layout, CifarFolderOptions options)
    {
        var folder = Folder(name, layout, options);
        var (train, test) = CifarReader.Read(folder, layout, options.TrainLimit, options.TestLimit);
        run.Logger.LogInformation("Loaded {Dataset} from {Folder}: {Train} train and {Test} test images of 32x32 RGB, {Classes} classes ({Kind}s)",
            layout.DisplayName, folder, train.Count, test.Count, train.ClassCount, layout.LabelKind);
        return new DatasetSplits($"{layout.DisplayName} ({layout.LabelKind}s) from {folder}", train, test);
    }

    public static void Check(string name, CifarLayout layout, CifarFolderOptions options) =>
        CifarReader.Check(Folder(name, layout, options), layout);

    private static string Folder(string name, CifarLayout layout, CifarFolderOptions options) =>
        CifarReader.ResolveFolder(DatasetFolder.Require(options.Path, name, $"the {layout.DisplayName} binary files ({layout.Listing})"), layout);
}

[ExportDataset("cifar10", Description = "CIFAR-10 (50k/10k 32x32 colour images, 10 classes) from a folder in the published binary format.")]
public sealed class Cifar10Dataset : IDatasetLoader<Cifar10Options>
{
    public DatasetSplits Load(RunContext run, Cifar10Options options) =>
        CifarLoader.Load(run, "cifar10", CifarLayout.Cifar10, options);

    public void Check(Cifar10Options options) => CifarLoader.Check("cifar10", CifarLayout.Cifar10, options);
}

[ExportDataset("cifar100", Description = "CIFAR-100 (50k/10k 32x32 colour images, 100 fine or 20 coarse classes) from a folder in the published binary format.")]
public sealed class Cifar100Dataset : IDatasetLoader<Cifar100Options>
{
    public DatasetSplits Load(RunContext run, Cifar100Options options) =>
        CifarLoader.Load(run, "cifar100", CifarLayout.Cifar100(options.Labels), options);

    public void Check(Cifar100Options options) => CifarLoader.Check("cifar100", CifarLayout.Cifar100(options.Labels), options);
}
