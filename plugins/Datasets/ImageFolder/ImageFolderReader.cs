using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// Reads <c>root/train/&lt;class&gt;/*</c> and <c>root/test/&lt;class&gt;/*</c> into <see cref="ImageSet"/>s of
/// float32 [N, channels, size, size] in [0, 1] (see <see cref="CenterCropResizer"/>), labels int64 [N]. Classes are
/// the train sub-folder names sorted ordinally, shared by both splits; images are ordered by class, then by file name
/// (ordinal). Only *.png, *.jpg and *.jpeg files (any case) count; hidden entries (".name") are ignored.
/// </summary>
public static class ImageFolderReader
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    public const string Layout = "train/<class>/*.png|jpg|jpeg and test/<class>/*.png|jpg|jpeg";

    public static (ImageSet Train, ImageSet Test) Read(string root, ImageFolderOptions options, ILogger logger,
        CancellationToken cancellation = default)
    {
        var (trainFolder, testFolder, classes) = CheckLayout(root);
        var train = ReadSplit(Files(trainFolder, classes), classes, options, logger, cancellation);
        var empty = Array.FindIndex(train.CountPerClass(), count => count == 0);
        if (empty >= 0)
            throw new DataFormatException(Path.Combine(trainFolder, classes[empty]),
                $"class '{classes[empty]}' has no readable training images");
        return (train, ReadSplit(Files(testFolder, classes), classes, options, logger, cancellation));
    }

    /// <summary>
    /// The cheap check behind <c>validate</c>: the layout, and each image file's first bytes (a PNG signature or a JPEG
    /// SOI marker) without decoding it. With <see cref="BadFilePolicy.Fail"/> any other file is an error; with
    /// <see cref="BadFilePolicy.Skip"/> each training class still needs one file that may be an image.
    /// </summary>
    public static void Check(string root, ImageFolderOptions options)
    {
        var (trainFolder, testFolder, classes) = CheckLayout(root);
        var train = Files(trainFolder, classes);
        var plausible = new bool[classes.Count];
        foreach (var (path, label) in train.Concat(Files(testFolder, classes)))
        {
            if (StartsLikeAnImage(path, out var problem))
            {
                if (path.StartsWith(trainFolder, StringComparison.Ordinal)) plausible[label] = true;
            }
            else if (options.OnBadFile == BadFilePolicy.Fail)
                throw BadFile(path, problem!);
        }
        var empty = Array.IndexOf(plausible, false);
        if (empty >= 0)
            throw new DataFormatException(Path.Combine(trainFolder, classes[empty]), $"class '{classes[empty]}' has no training images");
    }

    private static DataFormatException BadFile(string path, string problem) =>
        new(path, $"{problem} (set the dataset option onBadFile to \"skip\" to leave such files out)");

    /// <summary>True when the file opens and starts with a PNG signature or a JPEG SOI marker.</summary>
    private static bool StartsLikeAnImage(string path, out string? problem)
    {
        Span<byte> head = stackalloc byte[8];
        int read;
        try
        {
            using var stream = File.OpenRead(path);
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read: {e.Message}";
            return false;
        }
        problem = read == 0 ? "empty file, not an image"
            : head[..read].StartsWith(PngStructure.Signature) || head[..read] is [0xFF, 0xD8, ..] ? null
            : $"not a PNG or JPEG file (it starts with bytes {Convert.ToHexString(head[..Math.Min(4, read)])})";
        return problem is null;
    }

    /// <summary>The split folders and the class names (train sub-folders, sorted ordinally), after checking the layout.</summary>
    /// <param name="root">An existing folder (<see cref="DatasetFolder.Require"/> checks it).</param>
    private static (string Train, string Test, List<string> Classes) CheckLayout(string root)
    {
        var trainFolder = RequireFolder(root, "train");
        var testFolder = RequireFolder(root, "test");

        var classes = ClassFolders(trainFolder);
        if (classes.Count == 0)
            throw new DataFormatException(trainFolder, "no class sub-folders: expected train/<class>/ image folders");
        foreach (var testClass in ClassFolders(testFolder).Where(c => !classes.Contains(c)))
            throw new DataFormatException(Path.Combine(testFolder, testClass),
                $"test class '{testClass}' has no folder in {trainFolder}; train and test must share the class list ({string.Join(", ", classes)})");
        return (trainFolder, testFolder, classes);
    }

    private static string RequireFolder(string root, string name)
    {
        var folder = Path.Combine(root, name);
        return Directory.Exists(folder) ? folder
            : throw new DataFormatException(folder, $"folder not found: an image-folder dataset holds {Layout}");
    }

    private static List<string> ClassFolders(string split) =>
        [.. new DirectoryInfo(split).EnumerateDirectories()
            .Where(d => !d.Name.StartsWith('.'))
            .Select(d => d.Name)
            .Order(StringComparer.Ordinal)];

    /// <summary>The split's image files with their labels: by class, then by file name (ordinal).</summary>
    private static List<(string Path, int Label)> Files(string split, List<string> classes)
    {
        var files = new List<(string Path, int Label)>();
        for (var label = 0; label < classes.Count; label++)
        {
            var folder = Path.Combine(split, classes[label]);
            if (!Directory.Exists(folder)) continue; // a test split may lack some classes
            files.AddRange(new DirectoryInfo(folder).EnumerateFiles()
                .Where(f => !f.Name.StartsWith('.') && Extensions.Contains(f.Extension, StringComparer.OrdinalIgnoreCase))
                .Select(f => f.FullName)
                .Order(StringComparer.Ordinal)
                .Select(path => (path, label)));
        }
        return files;
    }

    private static ImageSet ReadSplit(List<(string Path, int Label)> files, List<string> classes, ImageFolderOptions options, ILogger logger,
        CancellationToken cancellation)
    {
        var imageValues = options.Channels * options.Size * options.Size;
        var pixels = new float[(long)files.Count * imageValues];
        var problems = new string?[files.Count];
        // Decoding dominates and images are independent: decode in parallel, each into its own slot, so the result
        // and the order of any error are the same as a sequential read.
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellation }, i =>
        {
            if (DecodedImage.TryRead(files[i].Path, out problems[i]) is { } image)
                CenterCropResizer.Resize(image, options.Size, options.Channels, pixels.AsSpan(i * imageValues, imageValues));
        });

        var kept = 0;
        var labels = new List<long>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            if (problems[i] is { } problem)
            {
                if (options.OnBadFile == BadFilePolicy.Fail) throw BadFile(files[i].Path, problem);
                logger.LogWarning("image-folder: skipping {File}: {Problem}", files[i].Path, problem);
                continue;
            }
            if (kept != i) Array.Copy(pixels, (long)i * imageValues, pixels, (long)kept * imageValues, imageValues);
            labels.Add(files[i].Label);
            kept++;
        }

        using var scope = NewDisposeScope();
        var x = tensor(pixels, [files.Count, options.Channels, options.Size, options.Size]);
        if (kept < files.Count) x = x.narrow(0, 0, kept).clone(); // drop the slots of skipped files
        var y = tensor(labels.ToArray(), [kept], ScalarType.Int64);
        return new ImageSet(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), classes);
    }
}
