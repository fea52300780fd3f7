using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Datasets;

/// <summary>Options every MNIST-family loader shares: how much of each split to keep.</summary>
public class SplitLimitOptions
{
    [Range(0, int.MaxValue), Description("Keep only the first N training images (0 = all); for quick experiments.")]
    public int TrainLimit { get; set; }

    [Range(0, int.MaxValue), Description("Keep only the first N test images (0 = all).")]
    public int TestLimit { get; set; }
}

/// <summary>Options of a loader that reads the MNIST layout from a folder.</summary>
public class MnistFolderOptions : SplitLimitOptions
{
    [Required, Description("Folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and " +
                 "t10k-labels-idx1-ubyte, each raw or gzipped (.gz).")]
    public string? Path { get; set; }
}

/// <summary>Fashion-MNIST has a standard install location (apt package dataset-fashion-mnist), so it is the default.</summary>
public sealed class FashionMnistOptions : MnistFolderOptions
{
    public const string DefaultPath = "/usr/share/datasets/fashion-mnist";

    public FashionMnistOptions() => Path = DefaultPath;
}
