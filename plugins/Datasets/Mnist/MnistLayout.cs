namespace Distillery.Datasets;

/// <summary>The four file names of the MNIST layout, shared by MNIST, Fashion-MNIST and KMNIST.</summary>
public static class MnistLayout
{
    public const string TrainImages = "train-images-idx3-ubyte";
    public const string TrainLabels = "train-labels-idx1-ubyte";
    public const string TestImages = "t10k-images-idx3-ubyte";
    public const string TestLabels = "t10k-labels-idx1-ubyte";

    public static IReadOnlyList<string> AllFiles { get; } = [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>"train-images-idx3-ubyte[.gz], …": how error messages say what a folder must hold.</summary>
    public static string Listing => string.Join(", ", AllFiles.Select(f => f + "[.gz]"));
}
