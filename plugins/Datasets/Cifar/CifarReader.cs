using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// Reads a CIFAR binary folder into train and test <see cref="ImageSet"/>s: images float32 [N, 3, 32, 32] in
/// [0, 1], labels int64 [N], on the CPU. Every file is checked (present, length a whole number of records) before
/// any is read, so an error does not depend on the split limits; malformed input raises
/// <see cref="DataFormatException"/> naming the file.
/// </summary>
public static class CifarReader
{
    /// <summary>The folder that holds the files: <paramref name="path"/> itself, or the tarball's sub-folder below it.</summary>
    /// <param name="path">An existing folder (<see cref="DatasetFolder.Require"/> checks it).</param>
    public static string ResolveFolder(string path, CifarLayout layout)
    {
        var folder = Path.GetFullPath(path);
        var extracted = Path.Combine(folder, layout.TarballFolder);
        var hasFiles = layout.TrainFiles.Any(f => File.Exists(Path.Combine(folder, f)));
        return !hasFiles && Directory.Exists(extracted) ? extracted : folder;
    }

    /// <param name="trainLimit">Keep only the first N training images (0 = all).</param>
    /// <param name="testLimit">Keep only the first N test images (0 = all).</param>
    public static (ImageSet Train, ImageSet Test) Read(string folder, CifarLayout layout, int trainLimit = 0, int testLimit = 0)
    {
        var files = Check(folder, layout);
        return (ReadSplit(files.Train, files.TrainCounts, layout, files.ClassNames, trainLimit),
                ReadSplit(files.Test, files.TestCounts, layout, files.ClassNames, testLimit));
    }

    /// <summary>The folder's files, checked without reading the records: class names, and every file present and holding whole records.</summary>
    public static CifarFiles Check(string folder, CifarLayout layout)
    {
        var classNames = ReadClassNames(Path.Combine(folder, layout.ClassNamesFile), layout);
        var trainFiles = layout.TrainFiles.Select(f => Path.Combine(folder, f)).ToList();
        var testFiles = layout.TestFiles.Select(f => Path.Combine(folder, f)).ToList();
        return new CifarFiles(classNames, trainFiles, [.. trainFiles.Select(f => CountRecords(f, layout))],
            testFiles, [.. testFiles.Select(f => CountRecords(f, layout))]);
    }

    /// <summary>A checked CIFAR folder: class names, and the record files of each split with their record counts.</summary>
    public sealed record CifarFiles(IReadOnlyList<string> ClassNames, List<string> Train, List<int> TrainCounts, List<string> Test, List<int> TestCounts);

    /// <summary>Class names, one per line; blank lines (the published files end with some) are ignored.</summary>
    public static IReadOnlyList<string> ReadClassNames(string path, CifarLayout layout)
    {
        if (!File.Exists(path))
            throw new DataFormatException(path, $"file not found (a {layout.DisplayName} binary folder holds {layout.Listing})");
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (names.Count != layout.ClassCount)
            throw new DataFormatException(path,
                $"expected {layout.ClassCount} class names (one per line) for the {layout.DisplayName} {layout.LabelKind}s, found {names.Count}");
        return names;
    }

    /// <summary>The number of records, after checking that the file exists and holds whole records.</summary>
    public static int CountRecords(string path, CifarLayout layout)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new DataFormatException(path, $"file not found (a {layout.DisplayName} binary folder holds {layout.Listing})");
        if (file.Length % layout.RecordBytes != 0)
            throw new DataFormatException(path,
                $"length {file.Length} bytes is not a multiple of the {layout.DisplayName} record size {layout.RecordBytes} " +
                $"({layout.LabelBytes} label byte{(layout.LabelBytes > 1 ? "s" : "")} + {CifarLayout.PixelBytes} pixel bytes): the file is truncated or not {layout.DisplayName} binary");
        var records = file.Length / layout.RecordBytes;
        if (records > Array.MaxLength / CifarLayout.PixelBytes)
            throw new DataFormatException(path, $"{records:N0} records is more than one split can hold here");
        return (int)records;
    }

    private static ImageSet ReadSplit(List<string> files, List<int> counts, CifarLayout layout, IReadOnlyList<string> classNames, int limit)
    {
        var total = counts.Sum(c => (long)c);
        var keep = (int)(limit > 0 ? Math.Min(limit, total) : Math.Min(total, Array.MaxLength / CifarLayout.PixelBytes));
        var pixels = new byte[(long)keep * CifarLayout.PixelBytes];
        var labels = new long[keep];
        var filled = 0;
        for (var f = 0; f < files.Count && filled < keep; f++)
        {
            var take = Math.Min(counts[f], keep - filled);
            ReadRecords(files[f], layout, take, pixels.AsSpan(filled * CifarLayout.PixelBytes), labels.AsSpan(filled));
            filled += take;
        }

        using var scope = NewDisposeScope();
        using var levels = 255f.ToScalar(); // held for the native call (see HeldScalars)
        var x = tensor(pixels, [keep, CifarLayout.Channels, CifarLayout.Height, CifarLayout.Width], ScalarType.Byte)
            .to_type(ScalarType.Float32).div_(levels);
        var y = tensor(labels, [keep], ScalarType.Int64);
        return new ImageSet(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), classNames);
    }

    /// <summary>Reads the first <paramref name="count"/> records of a file whose length was already checked.</summary>
    private static void ReadRecords(string path, CifarLayout layout, int count, Span<byte> pixels, Span<long> labels)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
            Span<byte> label = stackalloc byte[layout.LabelBytes];
            for (var i = 0; i < count; i++)
            {
                stream.ReadExactly(label);
                var value = label[layout.LabelIndex];
                // A label outside the class list would index past the class names (and one-hot encodings) later.
                if (value >= layout.ClassCount)
                    throw new DataFormatException(path,
                        $"record {i}: {layout.LabelKind} {value} is not a class; {layout.DisplayName} has {layout.ClassCount} (0-{layout.ClassCount - 1})");
                labels[i] = value;
                stream.ReadExactly(pixels.Slice(i * CifarLayout.PixelBytes, CifarLayout.PixelBytes));
            }
        }
        catch (EndOfStreamException)
        {
            throw new DataFormatException(path, "the file became shorter while it was being read");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"read failed: {e.Message}");
        }
    }
}
