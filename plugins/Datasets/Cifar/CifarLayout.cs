namespace Distillery.Datasets;

/// <summary>
/// One of the published CIFAR binary formats (https://www.cs.toronto.edu/~kriz/cifar.html): files of fixed-size
/// records, each <see cref="LabelBytes"/> label bytes then 3072 pixel bytes — the red, green and blue 32×32 planes,
/// each row-major — which is exactly the [3, 32, 32] layout of a tensor.
/// </summary>
/// <param name="DisplayName">"CIFAR-10", used in messages.</param>
/// <param name="TarballFolder">The folder the binary tarball extracts to, accepted below the given path.</param>
/// <param name="LabelBytes">Label bytes at the start of each record.</param>
/// <param name="LabelIndex">Which of the label bytes is the label used.</param>
/// <param name="LabelKind">"label", "fine label" or "coarse label", used in messages.</param>
/// <param name="ClassCount">Valid labels are 0 … ClassCount − 1.</param>
/// <param name="ClassNamesFile">The text file with one class name per line.</param>
public sealed record CifarLayout(
    string DisplayName, string TarballFolder, int LabelBytes, int LabelIndex, string LabelKind, int ClassCount,
    string ClassNamesFile, IReadOnlyList<string> TrainFiles, IReadOnlyList<string> TestFiles)
{
    public const int Channels = 3, Height = 32, Width = 32;
    public const int PixelBytes = Channels * Height * Width;

    public int RecordBytes => LabelBytes + PixelBytes;

    public IEnumerable<string> AllFiles => TrainFiles.Concat(TestFiles).Append(ClassNamesFile);

    /// <summary>"data_batch_1.bin, …, batches.meta.txt": how messages say what the folder must hold.</summary>
    public string Listing => string.Join(", ", AllFiles);

    public static CifarLayout Cifar10 { get; } = new(
        "CIFAR-10", "cifar-10-batches-bin", LabelBytes: 1, LabelIndex: 0, "label", ClassCount: 10, "batches.meta.txt",
        [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")], ["test_batch.bin"]);

    /// <summary>CIFAR-100: records start with the coarse then the fine label.</summary>
    public static CifarLayout Cifar100(CifarLabels labels) => labels == CifarLabels.Coarse
        ? new("CIFAR-100", "cifar-100-binary", 2, 0, "coarse label", 20, "coarse_label_names.txt", ["train.bin"], ["test.bin"])
        : new("CIFAR-100", "cifar-100-binary", 2, 1, "fine label", 100, "fine_label_names.txt", ["train.bin"], ["test.bin"]);
}
